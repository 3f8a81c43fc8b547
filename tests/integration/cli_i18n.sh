#!/bin/bash
# cli_i18n.sh - the command in the clerk's language: under LANG=zh_CN.UTF-8 a refused follow-up,
# an unknown person or store, a bad ID number, a report's titles and headers (text and HTML), the
# --help summaries, a follow-up's success line and an unknown command are Chinese, while the stored words and the JSON stay data; under LANG=C (and with no language set
# at all) every message is the English one, byte for byte; with the catalogue missing, the
# Chinese locale falls back to English silently (same bytes, same exit codes). Skipped when the
# machine has no zh_CN.UTF-8 locale (scripts/install-deps generates it).
. "$(dirname "$0")/lib.sh"

if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
	echo "SKIP: $TEST_NAME: no zh_CN.UTF-8 locale on this machine (locale -a; scripts/install-deps generates it)"
	exit 77
fi

# zh ARGS...: hamlet ARGS under LANG=zh_CN.UTF-8; en ARGS...: under LANG=C.
zh() { LANG=zh_CN.UTF-8 run "$HM" "$@"; }
en() { LANG=C run "$HM" "$@"; }

# said WHAT PART: the last command's stderr (or stdout: said_out) holds PART.
said() {
	if grep -qF -- "$2" "$ERR"; then ok; else fail "$1: stderr lacks '$2': $(cat "$ERR")"; fi
}
said_out() {
	if grep -qF -- "$2" "$OUT"; then ok; else fail "$1: stdout lacks '$2': $(head -c 600 "$OUT")"; fi
}
code() {
	if [ "$RC" = "$2" ]; then ok; else fail "$1: exit $RC, want $2"; fi
}

new_node elm lin/east/elm Elm || finish
must -d elm person add --id p1 --name "Li Wei" --category returnee --compound "Riverside 3"
must -d elm episode start p1 --kind home
must -d elm followup add p1 --temp 38.2 --method visit

# ---- Chinese
zh -d elm followup add p1 --temp 45 --method visit
code "a temperature out of range" 2
said "a temperature out of range" "temperature（体温）：应为34 到 43 摄氏度之间的体温，而不是“45”"
zh -d elm followup add p1 --method visit
code "a follow-up without its result" 2
said "a follow-up without its result" "随访要有结果"
zh -d elm followup add ghost --temp 37 --method visit
code "an unknown person" 1
said "an unknown person" "找不到人员“ghost”（请用 \`hamlet person add\` 登记"
zh -d elm stock receive masks 100 --store nowhere
code "an unknown store" 1
said "an unknown store" "找不到仓库“nowhere”"
zh -d elm person add --name X --id-number 1101051949
code "a short ID number" 2
said "a short ID number" "id_number（身份证号）：应为18 位的身份证号"
zh -d elm person add --name X --id-number 110105194912310021
said "an ID number with a wrong check character" "校验码正确的身份证号（第 18 位不对，是否输错？）"
zh -d elm person dups
code "person dups" 0
said_out "person dups" "没有重复登记的人员"
must -d elm person add --id q2 --name "Zhao Min" --id-number 11010519491231002X
must -d elm person add --id q3 --name "Zhao Min" --id-number 11010519491231002X
zh -d elm person dups
said_out "person dups" "身份证号相同： q2 (lin/east/elm) q3 (lin/east/elm)"
said_out "person dups" "  建议： hamlet person merge q2 q3"
zh -d elm person apart q2 q3
code "person apart" 0
said_out "person apart" "已记录 q3 与 q2 是两个人"
zh -d elm report daily
code "report daily" 0
said_out "report daily" "每日报表：地区 lin/east/elm，日期 "
said_out "report daily" "在管人员（按管理方式和原因）；今日新增和解除"
said_out "report daily" "  地区          级别  在管人数  居家隔离"
said_out "report daily" "  lin/east/elm  村           1"
said_out "report daily" "  lin/east/elm  合计         1"
zh -d elm report daily --html
said_out "report daily --html" '<html lang="zh-CN">'
said_out "report daily --html" '<th lang="zh-CN">级别</th>'
said_out "report daily --html" '<td lang="zh-CN">合计</td>'
# Data stays data: the stored word, the JSON's keys and words, the CSV's English headers.
zh -d elm get person p1 --json
said_out "get --json" '"category":"returnee"'
zh -d elm report daily --json
said_out "report --json" '"village"'
if grep -q '村' "$OUT"; then fail "report --json holds Chinese: $(head -c 300 "$OUT")"; else ok; fi
zh -d elm report daily --csv
said_out "report --csv" "region,level,monitored,home"

# The field commands' --help summaries, a success line, an unknown command.
zh --help
said_out "--help" "  followup      登记测温或随访"
said_out "--help" "  episode       开始、延长和结束隔离或健康监测"
zh stock --help
said_out "stock --help" "  receive    物资入库"
zh episode start --help
said_out "episode start --help" "开始隔离或健康监测"
said_out "episode start --help" "  -h, --help"
zh -d elm followup add p1 --temp 36.8 --method phone
said_out "a follow-up recorded" "（变更集 "
zh nosuch
code "an unknown command" 2
said "an unknown command" "hamlet: 没有“nosuch”这个命令（\`hamlet --help\` 列出所有命令）"

# ---- English: LANG=C, C.UTF-8 and no language at all say the same bytes, and the English text
cmds=(
	"followup add p1 --temp 45 --method visit"
	"followup add ghost --temp 37 --method visit"
	"stock receive masks 100 --store nowhere"
	"person add --name X --id-number 1101051949"
	"report daily"
	"report daily --html"
	"followup --help"
	"--help"
	"stock --help"
	"episode start --help"
	"nosuch"
)
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	en -d elm $c
	c_out=$(cat "$OUT") c_err=$(cat "$ERR") c_rc=$RC
	# shellcheck disable=SC2086
	env -u LANG "$HM" -d elm $c >"$OUT" 2>"$ERR"
	RC=$?
	if [ "$RC/$(cat "$OUT")/$(cat "$ERR")" = "$c_rc/$c_out/$c_err" ]; then ok; else
		fail "hamlet $c: without LANG it differs from LANG=C"
	fi
	# shellcheck disable=SC2086
	HAMLET_LOCALEDIR=$T/no-catalogue LANG=zh_CN.UTF-8 "$HM" -d elm $c >"$OUT" 2>"$ERR"
	RC=$?
	if [ "$RC/$(cat "$OUT")/$(cat "$ERR")" = "$c_rc/$c_out/$c_err" ]; then ok; else
		fail "hamlet $c: Chinese without the catalogue differs from LANG=C:" \
			"$(diff <(echo "$c_err$c_out") <(cat "$ERR" "$OUT") | head -5)"
	fi
done
# check --repair's account of an older meta page written again (node/guard.c), in Chinese
cp -a elm elm-meta
damage_older_meta elm-meta
zh -d elm-meta check --repair
code "check --repair of an older meta page" 0
said "check --repair of an older meta page" "）重写较早的元数据页 "
en -d elm followup add p1 --temp 45 --method visit
said "English" "hamlet: followup add: temperature: must be a body temperature between 34 and 43 degrees C, not '45'"
en -d elm stock receive masks 100 --store nowhere
said "English" "unknown store 'nowhere' (no store is known here; a store is a site: add it with"
en --help
said_out "English" "  followup      record a temperature check or visit"
en -d elm report daily
said_out "English" "Under monitoring by kind and reason; episodes started and ended today"
said_out "English" "  region        level    monitored  home"
finish
