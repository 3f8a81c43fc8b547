# week.sh - one scripted week (2026-11-20 to 2026-11-26) of prevention work in the East
# township: four villages (elm, oak, pine, birch) and the township hub (east). Sourced by the
# README demo (scripts/demo, over the network) and by the test that checks every report against
# figures computed by hand (tests/integration/cli_week.sh, by bundle files); docs/ledger.md walks
# through it.
#
# The caller defines:
#   at NODE ARGS...   run `hamlet -d NODE ARGS...` (the demo prints it, the test checks it)
#   link NODE...      NODE's link to the hub comes up: they exchange what each lacks
# and names the node directories elm oak pine birch east (and county, whose settings apply).
#
# What happens, and so what the reports on 2026-11-26 must show (tests/integration/cli_week.sh
# holds the figures):
# - returnees: e1 (elm, from Wuhan, registered 11-20), e4 (elm, Hubei, 11-25, found by a tip),
#   o1 (oak, Wuhan, 11-21, central isolation), p1 (pine, elsewhere, 11-22, released 11-26),
#   b1 (birch, Wuhan, 11-26) and b2 (birch, back since 11-15, registered only on 11-26: missed);
# - contacts: e1 -> e2 (shared meal) -> e3, a child who ate with e2's family: second-degree and
#   never monitored; o1 -> o2 (same vehicle), whose own contacts were never listed; p2, a case,
#   -> p3 (household);
# - follow-ups twice a day, some missed (o2 not seen since 11-24, e4 once on 11-26) and some by
#   phone only (p3, b1); fevers for e2 and p2, one of p2's not acted on;
# - supplies: the county's shipment sh1 (3000 N95, 500 suits) loses 1000 N95 to an interception on
#   the road; the hub passes 600 N95 to elm, which issues them and counts 20 short;
# - o3: oak registers e1 again (same ID number): a duplicate for the hub to merge;
# - compounds: only Riverside 3 (elm) had both its property management and residents told;
# - tips: one verified and paid, one rejected, one verified and not yet paid; two penalties.

week_register() {
	# -- 11-20 to 11-22: the first returnees and their contacts
	at elm person add --id e1 --name "Wang Fang" --id-number 11010519491231002X --sex female \
		--birth-year 1949 --category returnee --compound "Riverside 3" --phone 13800000001
	at elm return add e1 --id r-e1 --from-area wuhan --departure-date 2026-11-19 \
		--arrival-date 2026-11-20 --transport train --vehicle G1234 --found-by door \
		--registered 2026-11-20 --route "Wuhan 2026-11-19; Zhengzhou 2026-11-19"
	at elm episode start e1 --id ep-e1 --kind home --reason returnee --start 2026-11-20 --days 14
	at elm person add --id e2 --name "Wang Lei" --category close --compound "Riverside 3"
	at elm contact add e1 e2 --id x-e1-e2 --mode meal --last-date 2026-11-20
	at elm episode start e2 --id ep-e2 --kind home --reason close --start 2026-11-21 --days 14
	at elm notice add "Riverside 3" --id n-r3-p --audience property --date 2026-11-21
	at elm notice add "Riverside 3" --id n-r3-r --audience residents --date 2026-11-21

	at oak person add --id o1 --name "Zhao Min" --category returnee --compound "Oak Garden"
	at oak return add o1 --id r-o1 --from-area wuhan --arrival-date 2026-11-21 --transport bus \
		--found-by checkpoint --registered 2026-11-21
	at oak site add --id s-hotel --name "Oak Hotel isolation point" --kind isolation --beds 40
	at oak episode start o1 --id ep-o1 --kind central --reason returnee --site s-hotel \
		--start 2026-11-21 --days 14
	at oak person add --id o2 --name "Zhao Qiang" --category close --compound "Oak Garden"
	at oak contact add o1 o2 --id x-o1-o2 --mode vehicle
	at oak episode start o2 --id ep-o2 --kind home --reason close --start 2026-11-22 --days 14
	at oak notice add "Oak Garden" --id n-og-p --audience property --date 2026-11-22

	at pine person add --id p1 --name "Liu Yang" --category returnee --compound "Pine Court"
	at pine return add p1 --id r-p1 --from-area other --arrival-date 2026-11-22 --found-by self \
		--registered 2026-11-22
	at pine episode start p1 --id ep-p1 --kind monitoring --reason returnee --start 2026-11-22 \
		--days 14
	at pine site add --id s-gate --name "Pine road checkpoint" --kind checkpoint

	at east site add --id s-depot --name "East township depot" --kind store
	# stock moves only in and out of stores that are sites of kind store
	at east site add --id east-depot --name "East township depot store" --kind store
	at elm site add --id elm-store --name "Elm village store" --kind store
	at east put shipment sh1 from=county-reserve to=east-depot "lines=N95:3000,suit:500" \
		dispatched=2026-11-19 expected=2026-11-20 status=arrived
	at east stock receive N95 2000 --store east-depot --shipment sh1 --date 2026-11-20
	at east stock receive suit 500 --store east-depot --shipment sh1 --date 2026-11-20
	at east stock receive thermometer 10 --store east-depot --date 2026-11-20
	at east stock intercept N95 1000 --store east-depot --shipment sh1 --date 2026-11-21 \
		--counterparty "a neighbouring county's checkpoint"
	link elm # the hub learns of elm's store before it sends stock there
	at east stock transfer N95 600 --store east-depot --to elm-store --date 2026-11-21
	at east stock request suit 1000 --store east-depot --date 2026-11-22
	at elm stock request N95 1000 --store elm-store --date 2026-11-21
	at elm stock issue N95 140 --store elm-store --date 2026-11-22 --counterparty "door teams"
}

week_spread() {
	# -- 11-23 to 11-25: a case, a tip, a duplicate, more contacts
	at pine person add --id p2 --name "Sun Li" --category case --compound "Pine Court"
	at pine episode start p2 --id ep-p2 --kind central --reason case --start 2026-11-23
	at pine person add --id p3 --name "Sun Hao" --category close --compound "Pine Court"
	at pine contact add p2 p3 --id x-p2-p3 --mode household
	at pine episode start p3 --id ep-p3 --kind home --reason close --start 2026-11-24 --days 14
	at east stock issue suit 100 --store east-depot --date 2026-11-23 --counterparty villages
	at elm stock issue N95 70 --store elm-store --date 2026-11-24

	at elm tip add --id tip-1 --subject "a returnee at Elm Lane 7" --received 2026-11-24
	at elm person add --id e4 --name "Qian Bo" --category returnee --compound "Elm Lane 7"
	at elm return add e4 --id r-e4 --from-area hubei --arrival-date 2026-11-24 --found-by tip \
		--registered 2026-11-25
	at elm episode start e4 --id ep-e4 --kind monitoring --reason returnee --start 2026-11-25 \
		--days 14
	at elm tip verify tip-1 --verified 2026-11-25
	at elm person add --id e3 --name "Wang Xiaoming" --category second --compound "Riverside 5"
	at elm contact add e2 e3 --id x-e2-e3 --mode meal --last-date 2026-11-22

	at oak person add --id o3 --name "Wang F." --id-number 11010519491231002x \
		--category returnee --compound "Oak Garden"
	at oak tip add --id tip-2 --subject "lights on at No. 9" --received 2026-11-25
	at oak tip verify tip-2 --reject

	at pine checkpoint tally s-gate --id k-25-2 --date 2026-11-25 --shift 2 --vehicles 30 \
		--persons 52 --from-hubei 4 --fever 2 --referred 2 --turned-back 1
}

# Follow-ups: FU NODE ID PERSON TIME TEMP METHOD [ACTION]
fu() {
	local node=$1 id=$2 person=$3 time=$4 temp=$5 method=$6 action=${7:-}
	if [ -n "$action" ]; then
		at "$node" followup add "$person" --id "$id" --time "$time" --temp "$temp" \
			--method "$method" --action "$action"
	else
		at "$node" followup add "$person" --id "$id" --time "$time" --temp "$temp" \
			--method "$method"
	fi
}

week_followups() {
	fu oak f-o2-24 o2 2026-11-24T08:00 36.8 visit # o2's last check: not seen 11-25 and 11-26
	fu elm f-e1-25 e1 2026-11-25T08:00 36.7 visit
	fu elm f-e2-25 e2 2026-11-25T08:00 36.9 visit
	fu elm f-e4-25 e4 2026-11-25T18:00 36.6 visit
	fu oak f-o1-25 o1 2026-11-25T08:00 36.5 visit
	fu pine f-p2-25 p2 2026-11-25T08:00 37.8 visit "isolated at the central point"
	fu pine f-p3-25 p3 2026-11-25T08:00 36.5 phone
	fu elm f-e1-26a e1 2026-11-26T08:00 36.6 visit
	fu elm f-e1-26p e1 2026-11-26T18:00 36.8 visit
	fu elm f-e2-26a e2 2026-11-26T08:10 37.6 visit "referred to the fever clinic"
	fu elm f-e2-26p e2 2026-11-26T18:10 37.0 visit
	fu elm f-e4-26a e4 2026-11-26T09:00 36.5 phone # and no evening check
	fu oak f-o1-26a o1 2026-11-26T08:00 36.4 visit
	fu oak f-o1-26p o1 2026-11-26T18:00 36.5 visit
	fu pine f-p2-26a p2 2026-11-26T08:00 38.1 visit # a fever nobody acted on
	fu pine f-p2-26p p2 2026-11-26T18:00 37.9 visit "transferred to the county hospital"
	fu pine f-p3-26a p3 2026-11-26T08:00 36.6 phone
	fu pine f-p3-26p p3 2026-11-26T19:00 36.7 phone
}

week_last_day() {
	# -- 11-26: birch registers late, pine releases p1, elm counts its masks
	at birch person add --id b1 --name "Zhou Jie" --category returnee --compound "Birch Row 2"
	at birch return add b1 --id r-b1 --from-area wuhan --arrival-date 2026-11-23 \
		--found-by checkpoint --registered 2026-11-26
	at birch episode start b1 --id ep-b1 --kind home --reason returnee --start 2026-11-26 --days 14
	fu birch f-b1-26a b1 2026-11-26T09:00 36.9 phone
	at birch tip add --id tip-3 --subject "b2 back from Wuhan since the 15th" --received 2026-11-26
	at birch person add --id b2 --name "Zhou Ping" --category returnee --compound "Birch Row 4"
	at birch return add b2 --id r-b2 --from-area wuhan --arrival-date 2026-11-15 --found-by tip \
		--registered 2026-11-26
	at birch tip verify tip-3 --verified 2026-11-26
	at birch penalty add b2 --id pen-b2 --rule "returnee missed for 11 days" --date 2026-11-26
	at oak person add --id o4 --name "Zhao Jun" --category returnee --compound "Oak Garden"
	at oak penalty add o4 --id pen-o4 --rule "returnee missed" --date 2026-11-20
	at pine episode end ep-p1 --end 2026-11-26 --end-reason "14 days done early: negative test"
	at pine checkpoint tally s-gate --id k-26-1 --date 2026-11-26 --shift 1 --vehicles 41 \
		--persons 77 --from-hubei 6 --fever 1 --referred 1 --turned-back 3
	at elm stock issue N95 70 --store elm-store --date 2026-11-26
	at elm stock count N95 300 --store elm-store --date 2026-11-26
	at elm tip pay tip-1 --paid 2026-11-26
}

# The whole week, with links coming and going: the caller's `link` moves change sets.
week_all() {
	week_register
	link elm oak pine
	week_spread
	link elm oak pine
	week_followups
	link birch # birch's first contact with the hub (the demo: by USB stick)
	week_last_day
	link elm oak pine birch
}
