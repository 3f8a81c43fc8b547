/*
 * i18n.h - the words people read, in their language: GNU gettext over one text domain, "hamlet"
 * (po/zh_CN.po, built into LOCALEDIR/zh_CN/LC_MESSAGES/hamlet.mo). The msgids are the English
 * text; a message without a translation, or with no catalogue found, or in the C locale, stays
 * English, byte for byte.
 *
 * Marking (docs/development.md, "Translated text"):
 * - _("text") translates where the text is used;
 * - N_("text") only marks a string that is translated later with _() where it is shown (a
 *   table's entry, a reason handed back through a `const char **why`);
 * - the formats of hm_node_fail, hm_sync_fail, verb_fail, verb_note, cli_fail and cli_warn are
 *   translated inside those functions, so their callers pass a literal and mark nothing
 *   (scripts/update-po gives xgettext these functions as keywords).
 *
 * Every folder may include this header (crypto is the lowest); it is internal to hamlet: .c
 * files include it, public headers never do (it defines _ and N_). The libraries translate but
 * never choose the language: only cli/main.c calls setlocale and bindtextdomain, once.
 */
#ifndef HM_I18N_H
#define HM_I18N_H

#include <libintl.h>
#include <stdbool.h>
#include <string.h>

#define HM_TEXTDOMAIN "hamlet"

#define _(s)  dgettext(HM_TEXTDOMAIN, s)
#define N_(s) s

/* Whether the messages are in Chinese now: the catalogue in use (its header, gettext's answer
 * for "") says Language: zh. False without a catalogue, so an English screen stays English. */
static inline bool hm_i18n_zh(void)
{
	static const char header[] =
	    ""; /* gettext's name of the header (not an xgettext literal) */
	const char *head = dgettext(HM_TEXTDOMAIN, header);
	return *head && strstr(head, "\nLanguage: zh") != NULL;
}

#endif
