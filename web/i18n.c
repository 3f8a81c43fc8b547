/*
 * i18n.c - the interface's words: web_t(r, "English msgid") gives the words of the catalogue
 * (po/zh_CN.po, GNU gettext, text domain "hamlet", bound by the program) in the request's
 * language: Chinese by default, English when the hamlet_lang cookie says en. The language is
 * the request's, not the process's: server.c switches the serving thread to the zh_CN.UTF-8
 * (or C) messages locale for each request (web_speak), so the reasons the libraries give while a
 * page is built (hm_node_fail translates its format) come in the page's language too.
 */
#include "web_int.h"

#include <locale.h>

#include "i18n.h"

/* "" is "": gettext would give the catalogue's header (Project-Id-Version: ...). */
const char *web_t(const web_req *r, const char *msgid)
{
	return r->en || !*msgid ? msgid : dgettext(HM_TEXTDOMAIN, msgid);
}
