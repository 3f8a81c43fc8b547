#!/usr/bin/env bash
# `hamlet import-csv`: a register in a CSV file goes in whole, one change set, or not at all. Good
# files (plain, Chinese headers with --map, quoted fields, BOM + CRLF); broken rows listed with the
# physical line they start on and the reason; nothing written unless every row is good or
# --skip-bad; errors for what cannot be imported; a full store; a node without the id-hash key.
. "$(dirname "$0")/lib.sh"

# check WHAT GOT WANT
check() {
	if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi
}

# jget EXPR: json_get over $OUT
jget() {
	json_get "$OUT" "$1"
}

# idnum SEVENTEEN_DIGITS: the resident ID number with its check character (GB 11643)
idnum() {
	python3 -c 'import sys
s = sys.argv[1]
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print(s + "10X98765432"[sum(int(a) * b for a, b in zip(s, w)) % 11])' "$1"
}

# field DIR COLL ID FIELD: a field of a record as get --json prints it (masked if personal)
field() {
	"$HM" -d "$1" get "$2" "$3" --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["fields"].get(sys.argv[1], "<none>"))' "$4"
}

# pii DIR COLL ID FIELD: a personal field in clear, read on a copy (a reveal writes to the access
# log, which would change the counts checked here)
pii() {
	rm -rf "$T/.view"
	cp -r "$1" "$T/.view"
	"$HM" -d "$T/.view" get "$2" "$3" --json --show-pii | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["fields"].get(sys.argv[1], "<none>"))' "$4"
}

seq_of() {
	"$HM" -d "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])'
}

count_of() { # count_of DIR COLL: live records
	"$HM" -d "$1" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["records"][sys.argv[1]])' "$2"
}

# has_line TEXT: stderr of the last command has TEXT as a whole line
has_line() {
	if grep -Fxq -- "$1" "$ERR"; then ok; else fail "stderr lacks the line: $1"; fi
}

new_node v lin/east/elm

# ---- a good file of persons: a dry run writes nothing, the import is one change set
ID1=$(idnum 11010519491231002)
ID1x=${ID1%X}x
ID2=$(idnum 11010519800101001)
check "test's ID number" "$ID1" 11010519491231002X
cat >good.csv <<EOF
id,name,id_number,sex,birth_year,category,arrival_date
elm-001,Wang Fang,$ID1,female,1949,returnee,2026-11-20
elm-002,Li Wei,,male,1980,close,2026-11-21
elm-003,Wang Fang,$ID1x,female,1949,returnee,2026-11-22
elm-004,Zhou Min,$ID2,female,1980,returnee,2026-11-22
EOF
expect_same v 0 "" -d v import-csv person good.csv --dry-run
check "dry run summary" "$(cat "$OUT")" "dry run: 4 rows read, 4 good, 0 bad; nothing written"
seq0=$(seq_of v)
must -d v import-csv person good.csv --json
is_json "$OUT" && ok || fail "import-csv --json is not JSON: $(cat "$OUT")"
check "import --json" "$(jget '(d["collection"], d["rows"], d["written"], d["bad"], d["dry_run"], d["changesets"])')" \
	"('person', 4, 4, [], False, [$((seq0 + 1))])"
check "one change set" "$(seq_of v)" $((seq0 + 1))
check "persons" "$(count_of v person)" 4
check "birth_year" "$(field v person elm-002 birth_year)" 1980
check "category" "$(field v person elm-002 category)" close
check "arrival_date" "$(field v person elm-002 arrival_date)" 2026-11-21
check "village from the node" "$(field v person elm-002 village)" lin/east/elm
check "no id_number, no id_hash" "$(field v person elm-002 id_hash)" "<none>"
check "name" "$(pii v person elm-001 name)" "Wang Fang"
check "id_number" "$(pii v person elm-001 id_number)" "$ID1"
check "id_number as typed" "$(pii v person elm-003 id_number)" "$ID1x"
h1=$(pii v person elm-001 id_hash)
h3=$(pii v person elm-003 id_hash)
h4=$(pii v person elm-004 id_hash)
[[ $h1 =~ ^[0-9a-f]{32}$ ]] && ok || fail "id_hash is not 32 hex digits: '$h1'"
check "id_hash equal for x and X" "$h3" "$h1"
[ "$h4" != "$h1" ] && ok || fail "two ID numbers have the same id_hash $h1"

# ---- Chinese headers, mapped (a comma list, repeated --map and --map=)
ID3=$(idnum 42010619900315123)
cat >cn.csv <<EOF
编号,姓名,身份证号,性别,类别,备注
cn-1,张三,$ID3,male,returnee,从武汉返乡
cn-2,李四,,female,second,
EOF
# the Chinese headers of the template are known (编号 the id, 姓名 name, ...); 备注 is no field
expect_same v 1 "column '备注' is not a field of person" -d v import-csv person cn.csv
must -d v import-csv person cn.csv --map 编号=id,姓名=name --map 身份证号=id_number \
	--map=性别=sex --map '类别=category, 备注=-'
check "mapped summary" "$(head -1 "$OUT")" "2 rows read: 2 written to person"
check "Chinese name" "$(pii v person cn-1 name)" "张三"
check "mapped sex" "$(field v person cn-2 sex)" female
check "mapped category" "$(field v person cn-1 category)" returnee
[[ $(pii v person cn-1 id_hash) =~ ^[0-9a-f]{32}$ ]] && ok || fail "cn-1 has no id_hash"
check "ignored column not stored" "$("$HM" -d v get person cn-1 --json | python3 -c 'import json,sys
print(sorted(json.load(sys.stdin)["fields"]))')" "['category', 'id_hash', 'id_number', 'name', 'sex', 'village']"
# --id-column names the id column by its header
printf '编号,name\nk-1,Kong\n' >idcol.csv
must -d v import-csv person idcol.csv --id-column 编号
check "--id-column" "$(field v person k-1 village)" lin/east/elm
expect_same v 1 "--id-column nope: idcol.csv has no column 'nope'" \
	-d v import-csv person idcol.csv --id-column nope
# a bad row names the Chinese column it came from
printf '编号,姓名,性别\ncn-3,王五,不详\n' >cnbad.csv
expect_same v 1 "1 of 1 rows are bad" -d v import-csv person cnbad.csv --map 编号=id,姓名=name,性别=sex
has_line "hamlet: import-csv: line 2: sex (column 性别): must be one of male|female, not '不详'"

# ---- quoted fields: commas, doubled quotes, a newline; an empty quoted cell is not given
printf 'id,name,address,phone\nq-1,"Li, ""Big"" Wei","Room 3\nBuilding 5, East Road",13800000000\nq-2,Plain,"",\n' >quoted.csv
must -d v import-csv person quoted.csv
check "quoted name" "$(pii v person q-1 name)" 'Li, "Big" Wei'
check "quoted newline" "$(pii v person q-1 address)" "$(printf 'Room 3\nBuilding 5, East Road')"
check "phone" "$(pii v person q-1 phone)" 13800000000
check "empty quoted cell" "$(field v person q-2 address)" "<none>"
check "empty last cell" "$(field v person q-2 phone)" "<none>"

# ---- a UTF-8 BOM and CRLF line ends (and CRLF inside quotes)
printf '\xef\xbb\xbfid,name,sex,address\r\nb-1,Zhao,male,"Line1\r\nLine2"\r\nb-2,Qian,female,x\r\n' >bom.csv
s=$(seq_of v)
must -d v import-csv person bom.csv
check "BOM file, one change set" "$(seq_of v)" $((s + 1))
check "BOM: first column is the id" "$(field v person b-1 sex)" male
check "CRLF: no CR in the last cell" "$(field v person b-2 sex)" female
check "CRLF inside quotes" "$(pii v person b-1 address)" "$(printf 'Line1\nLine2')"

# ---- broken rows: listed with their line (a quoted newline moves the count), nothing written
cat >bad.csv <<'EOF'
id,name,id_number,sex,category,address
r-1,Good One,,male,returnee,"Road 1
Building 2"
r-2,Bad Id,110105194912310021,female,close,x
r-3,Bad Word,,woman,close,y
r-4,,,male,close,z
r-5,Short,male
r-6,Good Two,,female,second,w
r-1,Dup,,male,close,v
EOF
expect_same v 1 "^hamlet: import-csv: line 4: " -d v import-csv person bad.csv --dry-run
has_line "hamlet: import-csv: line 4: id_number: must be an ID number with the right check character (the 18th is wrong: mistyped?), not '110*************21'"
has_line "hamlet: import-csv: line 5: sex: must be one of male|female, not 'woman'"
has_line "hamlet: import-csv: line 6: name: required for a new person, and empty"
has_line "hamlet: import-csv: line 7: has 3 columns; the header has 6"
has_line "hamlet: import-csv: line 9: id: 'r-1' is also on line 2"
has_line "hamlet: import-csv: dry run: 5 of 7 rows are bad"
check "bad rows listed" "$(grep -c ': line ' "$ERR")" 5
grep -q 110105194912310021 "$ERR" && fail "a bad ID number is shown unmasked" || ok
check "dry run summary" "$(cat "$OUT")" "dry run: 7 rows read, 2 good, 5 bad; nothing written"
expect_same v 1 "" -d v import-csv person bad.csv --dry-run --json
check "dry run --json" "$(jget '(d["rows"], d["written"], d["bad_rows"], d["dry_run"], [(b["line"], b["field"]) for b in d["bad"]])')" \
	"(7, 0, 5, True, [(4, 'id_number'), (5, 'sex'), (6, 'name'), (7, None), (9, 'id')])"
check "--json reason" "$(jget 'd["bad"][1]["reason"]')" "must be one of male|female, not 'woman'"
expect_same v 1 "5 of 7 rows are bad: nothing was written" -d v import-csv person bad.csv
expect 1 "" -d v get person r-1
expect_same v 1 "" -d v import-csv person bad.csv --json
check "refused --json" "$(jget '(d["written"], len(d["bad"]), d["changesets"])')" "(0, 5, [])"
# --skip-bad: exactly the good rows, one change set
n=$(count_of v person)
s=$(seq_of v)
must -d v import-csv person bad.csv --skip-bad
check "--skip-bad summary" "$(head -1 "$OUT")" "7 rows read: 2 written to person, 5 bad (skipped, listed on stderr)"
has_line "hamlet: import-csv: line 5: sex: must be one of male|female, not 'woman'"
check "--skip-bad persons" "$(count_of v person)" $((n + 2))
check "--skip-bad change sets" "$(seq_of v)" $((s + 1))
check "first of a twice-used id" "$(pii v person r-1 name)" "Good One"
check "good row after the bad" "$(field v person r-6 category)" second
for r in r-2 r-3 r-4 r-5; do
	expect 1 "no record|not found" -d v get person $r
done

# ---- follow-ups: a temperature out of range, a missing time, a word, a number
cat >fu.csv <<'EOF'
id,person,time,temperature,method,slot
f-1,r-1,2026-11-21T08:30,36.8,visit,morning
f-2,r-1,2026-11-21T20:30,45.2,phone,evening
f-3,r-1,,36.5,visit,morning
f-4,r-1,2026-11-22T08:30,36.6,email,morning
f-5,r-1,2026-11-22T08:30,abc,visit,morning
EOF
expect_same v 1 "dry run: 4 of 5 rows are bad" -d v import-csv followup fu.csv --dry-run
has_line "hamlet: import-csv: line 3: temperature: must be a body temperature between 34 and 43 degrees C, not '45.2'"
has_line "hamlet: import-csv: line 4: time: required for a new followup, and empty"
has_line "hamlet: import-csv: line 5: method: must be one of visit|phone|self, not 'email'"
has_line "hamlet: import-csv: line 6: temperature: must be a number, not 'abc'"
must -d v import-csv followup fu.csv --skip-bad --json
check "followups --json" "$(jget '(d["rows"], d["written"], [b["line"] for b in d["bad"]])')" "(5, 1, [3, 4, 5, 6])"
check "temperature" "$(field v followup f-1 temperature)" 36.8
# an append-only record already there is refused
head -2 fu.csv >fu1.csv
expect_same v 1 "1 of 1 rows are bad" -d v import-csv followup fu1.csv
has_line "hamlet: import-csv: line 2: id: followup/f-1 already exists, and followup records are never changed (append-only): give this row a new id"

# ---- episodes: an end before the start, in the row or against the stored start
cat >ep.csv <<'EOF'
id,person,kind,start,end
e-1,r-1,home,2026-11-20,2026-12-04
e-2,r-1,home,2026-11-20,2026-11-18
e-3,r-1,central,2026-11-20,
EOF
expect_same v 1 "" -d v import-csv episode ep.csv --dry-run --json
check "episode bad rows" "$(jget '[(b["line"], b["field"], b["reason"]) for b in d["bad"]]')" \
	"[(3, 'end', '2026-11-18 is before the start 2026-11-20')]"
must -d v import-csv episode ep.csv --skip-bad
check "episode e-3" "$(field v episode e-3 kind)" central
expect 1 "" -d v get episode e-2
printf 'id,end\ne-3,2026-11-10\ne-1,2026-12-10\n' >ep2.csv
expect_same v 1 "1 of 2 rows are bad" -d v import-csv episode ep2.csv
has_line "hamlet: import-csv: line 2: end: 2026-11-10 is before the start 2026-11-20"
must -d v import-csv episode ep2.csv --skip-bad
check "an existing record needs no required fields" "$(field v episode e-1 end)" 2026-12-10
check "the bad update left e-3 alone" "$(field v episode e-3 end)" "<none>"
# a row with nothing but the id of an existing record changes nothing
printf 'id,end\ne-1,\n' >ep3.csv
expect_same v 0 "" -d v import-csv episode ep3.csv
check "id-only row" "$(cat "$OUT")" "1 row read, 0 bad, 1 with nothing but an id: nothing to write"
printf 'id,end\ne-1,\ne-3,2026-12-01\n' >ep4.csv
must -d v import-csv episode ep4.csv --json
check "id-only row not counted as written" "$(jget '(d["rows"], d["written"])')" "(2, 1)"
check "e-3 end" "$(field v episode e-3 end)" 2026-12-01

# ---- what cannot be imported: clear errors, right exit codes, nothing changed
expect_same v 1 "unknown collection 'persons'" -d v import-csv persons good.csv
expect_same v 1 "'_setting' is a system collection" -d v import-csv _setting good.csv
expect_same v 1 "cannot open nope.csv" -d v import-csv person nope.csv
expect_same v 2 "missing arguments" -d v import-csv person
expect_same v 2 "too many arguments" -d v import-csv person good.csv extra.csv
expect_same v 2 "--map takes COLUMN=FIELD" -d v import-csv person good.csv --map name
expect_same v 2 "option '--map' needs a value" -d v import-csv person good.csv --map
expect_same v 2 "unknown option '--frobnicate'" -d v import-csv person good.csv --frobnicate
expect_same v 1 "--map nope=name: good.csv has no column 'nope'" -d v import-csv person good.csv --map nope=name
expect_same v 1 "--map name=nom: person has no field 'nom'" -d v import-csv person good.csv --map name=nom
printf 'id,name,temp\nt-1,Tan,36.6\n' >col.csv
expect_same v 1 "col.csv: column 'temp' is not a field of person" -d v import-csv person col.csv
expect_same v 0 "" -d v import-csv person col.csv --map temp=- --dry-run
printf 'item,quantity\n' >stock.csv
expect_same v 1 "column 'quantity': stock.quantity is a counter" -d v import-csv stock stock.csv
printf 'name,id_hash\nA,00\n' >hash.csv
expect_same v 1 "person.id_hash is made by hamlet from id_number" -d v import-csv person hash.csv
printf 'person,temperature\nr-1,36.6\n' >notime.csv
expect_same v 1 "a new followup needs the field 'time', and no column is it" -d v import-csv followup notime.csv
: >empty.csv
expect_same v 1 "empty.csv is empty" -d v import-csv person empty.csv
printf 'name\n\xd5\xc5\xc8\xfd\n' >gbk.csv
expect_same v 1 "gbk.csv: line 2 is not UTF-8 text" -d v import-csv person gbk.csv
printf '\xff\xfen\x00a\x00' >u16.csv
expect_same v 1 "UTF-16" -d v import-csv person u16.csv
printf 'id,name\nu-1,Ok\nu-2,"Never closed\nu-3,x\n' >unclosed.csv
expect_same v 1 "line 3: a quoted field .* never closed; nothing was written" -d v import-csv person unclosed.csv
expect 1 "" -d v get person u-1
python3 -c 'print(",".join("c%d" % i for i in range(65)))' >wide.csv
expect_same v 1 "the header has 65 columns; import-csv reads at most 64" -d v import-csv person wide.csv
{
	echo "name,sex"
	python3 -c 'print(",".join(["x"] * 70))'
} >wide_row.csv
expect_same v 1 "" -d v import-csv person wide_row.csv --dry-run
has_line "hamlet: import-csv: line 2: has 70 columns; the header has 2"
truncate -s 300M huge.csv
expect_same v 1 "huge.csv is larger than 256 MiB" -d v import-csv person huge.csv
rm -f huge.csv
printf 'id,name,village\no-1,Ou,lin/east/oak\n' >region.csv
expect_same v 1 "" -d v import-csv person region.csv
has_line "hamlet: import-csv: line 2: village: lin/east/oak lies outside this node's region lin/east/elm"
printf 'id,name\n,NoId\n"bad\x01id",Ctl\n' >ids.csv
expect_same v 1 "1 of 2 rows are bad" -d v import-csv person ids.csv
has_line "hamlet: import-csv: line 3: id: must be 1 to 128 bytes with no control characters, not 'bad id'"
# blank lines and rows of empty cells are not rows
printf 'id,name\n\nbl-1,Blank\n,\n' >blank.csv
must -d v import-csv person blank.csv --json
check "blank lines" "$(jget '(d["rows"], d["written"])')" "(1, 1)"

# ---- rows without an id get new, distinct, time-ordered ids
python3 -c 'print("name,sex"); [print("Gen %d,%s" % (i, "male" if i % 2 else "female")) for i in range(3000)]' >gen.csv
n=$(count_of v person)
must -d v import-csv person gen.csv
check "3000 new ids" "$(count_of v person)" $((n + 3000))
check "prefix of new person ids" "$("$HM" -d v list person --json | python3 -c 'import json,sys
print(sum(1 for r in json.load(sys.stdin) if r["id"].startswith("p-")))')" 3000
must -d v site add --id s1 --name "Village store" --kind store
printf 'item,store,movement,quantity,date\nN95,s1,received,500,2026-11-20\n' >txn.csv
must -d v import-csv stock_txn txn.csv
check "stock_txn id prefix" "$("$HM" -d v list stock_txn --json | python3 -c 'import json,sys
print([r["id"][:2] for r in json.load(sys.stdin)])')" "['t-']"
check "stock_txn quantity" "$("$HM" -d v list stock_txn --json | python3 -c 'import json,sys
print(json.load(sys.stdin)[0]["fields"]["quantity"])')" 500

# ---- a big file reports progress; one too big for a change set is refused whole
python3 -c 'print("name,address"); [print("Big %d,%s" % (i, "a" * 900)) for i in range(10000)]' >progress.csv
expect_same v 0 "" -d v import-csv person progress.csv --dry-run
has_line "hamlet: import-csv: note: 10000 rows checked"
python3 -c 'print("name,address"); [print("Huge %d,%s" % (i, "b" * 4000)) for i in range(4500)]' >toobig.csv
expect_same v 1 "split the file into parts of at most [0-9]+ rows; nothing was written" \
	-d v import-csv person toobig.csv

# ---- a full store: the commit fails, nothing is written
new_node full lin/east/elm full
python3 -c 'import base64, os
print("name,address")
for i in range(600):
    print("F%d,%s" % (i, base64.b64encode(os.urandom(2400)).decode()))' >random.csv
export HAMLET_MAP_MAX=1048576
expect_same full 1 "size cap.*nothing was written|nothing was written.*size cap" -d full import-csv person random.csv
unset HAMLET_MAP_MAX
check "full: no person" "$(count_of full person)" 0

# ---- a node without the county's first data key (enrolled after four revocations: an
# enrollment answer carries the newest four epochs of each key): warned once, the rows go in
# without id_hash
must -d "$COUNTY_DIR" revoke "$(node_id full)" --after-seq 0 --reason "test: a new key epoch"
must -d "$COUNTY_DIR" revoke "$(node_id v)" --after-seq 0 --reason "test: a new key epoch"
for x in x1 x2; do
	new_node "$x" lin/east/oak "$x"
	must -d "$COUNTY_DIR" revoke "$(node_id "$x")" --after-seq 0 --reason "test: a new key epoch"
done
new_node late lin/east/oak late
printf 'id,name,id_number\nw-1,A,%s\nw-2,B,%s\n' "$ID1" "$ID2" >late.csv
must -d late import-csv person late.csv
check "warned once" "$(grep -c "warning: .*first data key.*id_hash is left empty" "$ERR")" 1
check "written without id_hash" "$(field late person w-2 id_hash)" "<none>"
check "but written" "$(count_of late person)" 2

# ---- the clerk's words and formats: 男/女, 上门, dates as Excel writes them
cat >words.csv <<'EOF'
id,name,sex,category,arrival_date
w-1,Wu,男,返乡人员,2026/11/5
w-2,Wei,女,密切接触者,2026-11-06 08:00
EOF
must -d v import-csv person words.csv
check "男 is male" "$(field v person w-1 sex)" male
check "女 is female" "$(field v person w-2 sex)" female
check "返乡人员 is returnee" "$(field v person w-1 category)" returnee
check "2026/11/5" "$(field v person w-1 arrival_date)" 2026-11-05
check "2026-11-06 08:00 as a date" "$(field v person w-2 arrival_date)" 2026-11-06
printf 'id,person,time,temperature,method\nfw-1,w-1,2026/12/06 8:00,36.6,上门\nfw-2,w-1,2026-12-06 20:05,36.9,电话\n' >fuw.csv
must -d v import-csv followup fuw.csv
check "time as Excel writes it" "$(field v followup fw-1 time)" 2026-12-06T08:00
check "上门 is visit" "$(field v followup fw-1 method)" visit
check "电话 is phone" "$(field v followup fw-2 method)" phone
# an ID number a spreadsheet turned into a number says so
printf 'id,name,id_number\nx-1,Xu,1.10105E+17\n' >excel.csv
expect_same v 1 "1 of 1 rows are bad" -d v import-csv person excel.csv
has_line "hamlet: import-csv: line 2: id_number: the ID number was turned into a number by a spreadsheet: format the column as text and export again, not '1**********'"

# ---- a follow-up or a contact of a person who does not exist: refused, as the field verbs
# refuse them
printf 'id,person,time,temperature,method\ng-1,ghost,2026-12-06T08:00,36.6,visit\ng-2,w-1,2026-12-06T09:00,36.6,visit\n' >ghost.csv
expect_same v 1 "1 of 2 rows are bad" -d v import-csv followup ghost.csv
has_line "hamlet: import-csv: line 2: person: unknown person 'ghost' (register them with \`hamlet person add\`, or find their id with \`hamlet person find\`)"
expect 1 "" -d v get followup g-2
printf 'id,source,contact,degree\nx-9,w-1,nobody,1\n' >ghost2.csv
expect_same v 1 "1 of 1 rows are bad" -d v import-csv exposure ghost2.csv
has_line "hamlet: import-csv: line 2: contact: unknown person 'nobody' (register them with \`hamlet person add\`, or find their id with \`hamlet person find\`)"

# ---- GBK: a file saved in GBK whose bytes happen to be UTF-8 (谢伟 reads лΰ) is refused with
# the hint; --encoding gbk reads it; one whose bytes are not UTF-8 says the same
printf 'id,name,sex\ngb-1,谢伟,女\n' | iconv -f UTF-8 -t GBK >gbk_utf8.csv
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' gbk_utf8.csv && ok ||
	fail "the GBK test file is not valid UTF-8"
expect_same v 1 "line 2, column 'name': .* looks like GBK text read as UTF-8 .* --encoding gbk" \
	-d v import-csv person gbk_utf8.csv
expect 1 "" -d v get person gb-1
must -d v import-csv person gbk_utf8.csv --encoding gbk
check "GBK name" "$(pii v person gb-1 name)" "谢伟"
check "GBK word" "$(field v person gb-1 sex)" female
printf '编号,姓名\ngb-2,张三\n' | iconv -f UTF-8 -t GBK >gbk2.csv
expect_same v 1 "gbk2.csv: line 1 is not UTF-8 text .*--encoding gbk" -d v import-csv person gbk2.csv
must -d v import-csv person gbk2.csv --encoding gbk
check "GBK header and name" "$(pii v person gb-2 name)" "张三"
# --encoding utf-8: the text is meant as it is
printf 'id,name\ngr-1,Дмитрий\n' >cyr.csv
expect 1 "looks like GBK" -d v import-csv person cyr.csv
must -d v import-csv person cyr.csv --encoding utf-8
check "Cyrillic with --encoding utf-8" "$(pii v person gr-1 name)" "Дмитрий"
expect_same v 2 "--encoding takes gbk or utf-8, not 'latin1'" -d v import-csv person cyr.csv --encoding latin1
printf 'id,name\ngb-3,\x80\n' >notgbk.csv
expect_same v 1 "notgbk.csv: line 2 is not GBK text" -d v import-csv person notgbk.csv --encoding gbk

# ---- --template: the importable columns with their Chinese headers, taken back as they are
expect_same v 0 "" import-csv --template person
check "template starts with a BOM" "$(head -c 3 "$OUT" | od -An -tx1 | tr -d ' ')" efbbbf
check "template header" "$(tail -c +4 "$OUT" | tr -d '\r')" \
	"编号,姓名,村,电话,身份证号,性别,出生年份,住址,来源地,到达日期,类别,状态,健康码,小区,户"
grep -Eq 'purged|name_seen|id_hash' "$OUT" && fail "template has internal columns" || ok
cp "$OUT" tpl.csv
printf 'tp-1,钱七,,13900000000,%s,女,1990,,,2026/12/1,返乡人员,,,,\r\n' "$ID2" >>tpl.csv
must -d v import-csv person tpl.csv
check "template round trip: name" "$(pii v person tp-1 name)" "钱七"
check "template round trip: sex" "$(field v person tp-1 sex)" female
check "template round trip: date" "$(field v person tp-1 arrival_date)" 2026-12-01
check "template round trip: village" "$(field v person tp-1 village)" lin/east/elm
expect_same v 0 "" import-csv --template followup
check "followup template" "$(tail -c +4 "$OUT" | tr -d '\r')" \
	"编号,人员编号,时间,体温,方式,结果,村,工作人员,隔离编号,时段,症状,处理"
expect_same v 1 "unknown collection" import-csv --template persons
expect_same v 1 "system collection" import-csv --template _setting
printf 'id,name,purged\npu-1,P,2026-12-01\n' >purged.csv
expect_same v 1 "person.purged is written by hamlet itself, not imported" -d v import-csv person purged.csv

# ---- --help
expect 0 "" import-csv --help
grep -Eq "^usage: hamlet \[-d DIR\] import-csv (\[OPTIONS\] )?COLLECTION FILE" "$OUT" && ok || fail "import-csv --help"
grep -q "example" "$OUT" && ok || fail "import-csv --help has no example"

finish
