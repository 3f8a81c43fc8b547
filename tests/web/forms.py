#!/usr/bin/env python3
"""forms.py: the field-work forms of a village's interface (/stock, /tips, /notices, /person/ID)
over real HTTP, checked against what the command line then reads from the same node.

A county (lin) and a village (lin/east/elm, enrolled by it, so it holds the county's key for
ID numbers), made with the CLI; on the village a store (`site add --kind store`), three persons
(one with a phone and an ID number, one whose name is a script) and three accounts made with
`hamlet user add` (a clerk, a doctor, an officer); then a real `hamlet ui`. Checks, each named
as it fails:
- stock: a receipt (its date as a clerk writes it, 2026/12/1), an issue and a count through the
  forms show in `hamlet report supplies --json` and in the page's stock on hand; an issue at a store
  that is not one is refused with the error beside the store field, the values kept in the
  form and nothing written (`hamlet digest` unchanged); so is a quantity that is not a number;
  the forms' words are Chinese by default (物资入库, the store's <select>);
- tips: a tip, its verification (the county's reward, 500) and its payment, read back with
  `hamlet get tip`;
- notices: a notice to a compound with its audience given in Chinese (居民: stored residents);
- the person page: a doctor sees the phone and ID number masked, has no reveal button, and a
  POST to reveal is answered 403 with nothing written to the access log; an officer's reveal
  writes an access record naming the officer and shows the numbers; a clerk adds a contact
  (second degree) and a follow-up from the page, and a contact with an unknown person is
  refused beside its field; a person named <script>alert(1)</script> is escaped on their page,
  in another's contacts and in the stock table; a name the village and the county changed at
  once (bundles both ways) shows as an open question beside the name that won.

Labels web and security. Environment: HAMLET_BIN, HAMLET_TEST_TMP. Exits 0 when every check
passed, 1 otherwise."""
import html
import json
import os
import re
import sys

from webtest import Client, county_and_village, Server, check, finish, hamlet, scratch

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PHONE, IDNUM = "13800000000", "11010519491231002X"
T = scratch("web_forms")
C, V = os.path.join(T, "county"), os.path.join(T, "elm")
USERS = {"clerk1": ("clerk", "clerk's password 1"), "doc1": ("doctor", "doctor's password 1"),
         "off1": ("officer", "officer's password 1")}


def setup():
    county_and_village(C, V, T)
    for name, (role, password) in USERS.items():
        hamlet(V, "user", "add", name, "--role", role, stdin=password + "\n")
    hamlet(V, "site", "add", "--id", "s-elm", "--name", "Elm store", "--kind", "store")
    hamlet(V, "person", "add", "--id", "p-li", "--name", "Li Wei", "--phone", PHONE,
           "--id-number", IDNUM, "--category", "close")
    hamlet(V, "person", "add", "--id", "p-wang", "--name", "Wang Fang", "--compound",
           "Riverside 3")
    hamlet(V, "person", "add", "--id", "p-evil", "--name", SCRIPT)
    # Wang Fang's neighbours: one of her household, one of her compound; p-a-far lives
    # elsewhere but comes first by id
    hamlet(V, "person", "add", "--id", "p-a-far", "--name", "Far Away", "--compound", "Hill 1")
    hamlet(V, "person", "add", "--id", "p-zz-home", "--name", "Wang Ming", "--compound",
           "Riverside 3", "--household", "7")
    hamlet(V, "person", "add", "--id", "p-yy-yard", "--name", "Wu Jie", "--compound",
           "Riverside 3")
    hamlet(V, "person", "edit", "p-wang", "--household", "7")
    # a name the village and the county changed at once: an open identity question
    hamlet(V, "person", "add", "--id", "p-zhao", "--name", "Zhao Lei")
    hamlet(V, "export", "-o", os.path.join(T, "v.bundle"))
    hamlet(C, "import", os.path.join(T, "v.bundle"))
    hamlet(V, "person", "edit", "p-zhao", "--name", "Zhao Lei A")
    hamlet(C, "person", "edit", "p-zhao", "--name", "Zhao Lei B")
    hamlet(C, "export", "-o", os.path.join(T, "c.bundle"))
    hamlet(V, "import", os.path.join(T, "c.bundle"))


def login(port, name, lang="en"):
    b = Client(port, lang)
    r, _ = b.login(name, USERS[name][1])
    check(r.status == 303, f"{name}'s login: {r.status}")
    return b


def post_form(b, page, fields, action=None):
    return b.post(action or page, dict(fields, csrf=b.csrf(page)))


def saved(b, page, fields, action=None, node_check=None):
    """A save through a form: answered 303 See Other to page, whose GET shows the outcome;
    a reload of it (a second GET) writes nothing (node_check(): what must not change, the
    node's digest by default). Returns the response and text of the GET."""
    r, text = post_form(b, page, fields, action)
    loc = r.headers.get("Location") or ""
    check(r.status == 303 and loc.startswith(page + "?"),
          f"a save on {action or page}: {r.status} to {loc!r}, not 303 to {page}?... "
          f"{notices(text)}")
    if r.status != 303:
        return r, text
    state = node_check or (lambda: hamlet(V, "digest"))
    r, text = b.get(loc)
    before = state()
    r2, _ = b.get(loc)
    check(r2.status == 200 and state() == before, f"reloading {loc} wrote something")
    return r, text


def error_beside(text, form, field):
    """The error shown beside field of the form of verb form ("stock-issue"), or None."""
    m = re.search(r'id="f-' + form + '-' + field + r'-err">([^<]*)<', text)
    return html.unescape(m.group(1)) if m else None


def on_hand(node):
    rep = json.loads(hamlet(node, "report", "supplies", "--json"))
    rows = [t for t in rep["tables"] if t["name"] == "stock"][0]
    cols = rows["columns"]
    return {(r[cols.index("item")], r[cols.index("store")]): r[cols.index("on_hand")]
            for r in rows["rows"]}


def test_stock(port):
    b = login(port, "clerk1", lang=None)  # Chinese, the default
    r, text = b.get("/stock")
    check(r.status == 200 and "物资入库" in text and "库存盘点" in text,
          f"GET /stock in Chinese: {r.status}")
    check('<option value="s-elm">Elm store (s-elm)</option>' in text,
          "/stock: the store is not offered in its <select>")
    r, text = saved(b, "/stock", {"verb": "stock receive", "item": "N95", "quantity": "500",
                                  "store": "s-elm", "date": "2026/12/1", "unit": "piece"})
    check(r.status == 200 and "已保存： 入库 N95 500" in " ".join(notices(text)),
          f"a receipt: {r.status} {notices(text)}")
    check(re.search(r'id="f-stock-receive-item"[^>]* value=""', text),
          "the receipt's form still holds the saved values")
    r, text = saved(b, "/stock", {"verb": "stock issue", "item": "N95", "quantity": "120",
                                  "store": "s-elm", "counterparty": "clinic"})
    check(r.status == 200 and "N95 120" in " ".join(notices(text)),
          f"an issue: {r.status} {notices(text)}")
    check(on_hand(V).get(("N95", "s-elm")) == 380,
          f"report supplies after 500 in, 120 out: {on_hand(V)}")
    check(re.search(r"<td>N95</td><td>Elm store \(s-elm\)</td><td class=\"num\">380</td>", text),
          "the page's stock on hand does not show 380 N95 at the store")
    check('<datalist id="f-stock-issue-item-list"><option value="N95">N95</option>' in text,
          "the items stock moved are not suggested")
    r, text = saved(b, "/stock", {"verb": "stock count", "item": "N95", "quantity": "370",
                                  "store": "s-elm"})
    check(r.status == 200 and "N95 370 已调整 -10" in " ".join(notices(text)),
          f"a count of 370: {r.status} {notices(text)}")
    check(on_hand(V).get(("N95", "s-elm")) == 370, f"report supplies after the count: "
          f"{on_hand(V)}")
    check(re.search(r"<td>N95</td><td>Elm store \(s-elm\)</td><td class=\"num\">370</td>", text),
          "the page's stock on hand does not show the count")
    # an issue beyond the books: saved, and the page after the redirect warns (from the books)
    r, text = saved(b, "/stock", {"verb": "stock issue", "item": "gloves", "quantity": "3",
                                  "store": "s-elm"})
    check("gloves at s-elm: the books now hold -3" in " ".join(notices(text)).replace(
          "gloves 在 s-elm：账上现为 -3", "gloves at s-elm: the books now hold -3"),
          f"an issue below zero: no warning after the save: {notices(text)}")
    before = hamlet(V, "digest")
    r, text = post_form(b, "/stock", {"verb": "stock issue", "item": "N95", "quantity": "5",
                                      "store": "s-nowhere"})
    err = error_beside(text, "stock-issue", "store")
    check(r.status == 400 and err and "找不到仓库“s-nowhere”" in err,
          f"an issue at an unknown store: {r.status}, beside the store: {err}")
    check(re.search(r'id="f-stock-issue-item"[^>]* value="N95"', text) and
          re.search(r'id="f-stock-issue-quantity"[^>]* value="5"', text) and
          '<option value="s-nowhere" selected>' in text,
          "the refused issue did not keep its values in the form")
    check(hamlet(V, "digest") == before, "a refused issue changed the digest")
    r, text = post_form(b, "/stock", {"verb": "stock receive", "item": "N95", "quantity": "lots",
                                      "store": "s-elm"})
    err = error_beside(text, "stock-receive", "quantity")
    check(r.status == 400 and err and "lots" in err, f"a quantity 'lots': {r.status} {err}")
    check(hamlet(V, "digest") == before, "a refused receipt changed the digest")
    # a Chinese refusal of the verb itself stands beside the field it names (review #12, 6)
    r, text = post_form(b, "/stock", {"verb": "stock receive", "item": "N95", "quantity": "-5",
                                      "store": "s-elm"})
    err = error_beside(text, "stock-receive", "quantity")
    check(r.status == 400 and err and "quantity" not in err,
          f"a quantity -5 in Chinese: {r.status}, beside the quantity: {err} {notices(text)}")
    check(hamlet(V, "digest") == before, "a refused receipt of -5 changed the digest")
    r, text = saved(b, "/stock", {"verb": "stock receive", "item": SCRIPT, "quantity": "1",
                                  "store": "s-elm"})
    check(r.status == 200 and SCRIPT not in text and ESCAPED in text,
          f"an item named with a script on /stock: {r.status}, escaped: {ESCAPED in text}")
    r, _ = login(port, "doc1").get("/stock")
    check(r.status == 403, f"GET /stock as a doctor: {r.status}, not 403")


def notices(text):
    return re.findall(r'class="notice [a-z]+"[^>]*>([^<]*)<', text)


def test_tips(port):
    b = login(port, "clerk1")
    r, text = post_form(b, "/tips", {"verb": "tip add", "subject": "x", "person": "p-ghost"})
    err = error_beside(text, "tip-add", "person")
    check(r.status == 400 and err and "unknown person 'p-ghost'" in err,
          f"a tip naming p-ghost: {r.status}, beside the person: {err}")
    check('<option value="p-wang">Wang Fang</option>' in text,
          "the tip's person is not suggested from the node's persons")
    r, text = saved(b, "/tips", {"verb": "tip add", "subject": "back from Wuhan, not "
                                 "registered", "person": "p-wang", "received": "2026-12-2"})
    m = re.search(r"Saved: the tip back from Wuhan, not registered \((tip-[0-9a-z]+)\)", text)
    check(r.status == 200 and m, f"a tip: {r.status} {notices(text)}")
    if not m:
        return
    tip = m.group(1)
    r, text = post_form(b, "/tips", {"verb": "tip pay", "id": tip})
    check(r.status == 400 and "not verified" in " ".join(notices(text)) + str(
        error_beside(text, "tip-pay", "id")), f"paying an unverified tip: {r.status}")
    r, text = saved(b, "/tips", {"verb": "tip verify", "id": tip})
    check(r.status == 200 and f"({tip})" in text, f"verify: {r.status} {notices(text)}")
    r, text = saved(b, "/tips", {"verb": "tip pay", "id": tip, "paid": "2026/12/5"})
    check(r.status == 200 and f"({tip})" in text, f"pay: {r.status} {notices(text)}")
    got = json.loads(hamlet(V, "get", "tip", tip, "--json"))["fields"]
    check(got.get("state") == "verified" and got.get("reward") == 500 and
          got.get("paid") == "2026-12-05" and got.get("received") == "2026-12-02",
          f"the tip as written: {got}")
    r, text = login(port, "off1").get("/tips")
    check(r.status == 200 and tip in text, f"the officer's /tips: {r.status}")


def test_many_tips(port):
    """More tips waiting than a list holds (200): the tip to verify is typed, the first 200
    suggested, and one beyond them can be verified."""
    b = login(port, "clerk1")
    r, text = b.get("/tips")
    check(re.search(r'<select[^>]*id="f-tip-verify-id"', text) is not None,
          "with few tips waiting, the tip to verify is not chosen from a list")
    csv_path = os.path.join(T, "tips.csv")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write("id,subject,received\n")
        for i in range(205):
            f.write(f"tip-many-{i:03d},a tip of many,2026-12-01\n")
    hamlet(V, "import-csv", "tip", csv_path)
    r, text = b.get("/tips")
    check(re.search(r'<input[^>]*id="f-tip-verify-id"[^>]*list=', text) is not None and
          re.search(r'<select[^>]*id="f-tip-verify-id"', text) is None,
          "with 205 tips waiting, the tip to verify is not a typed input with suggestions")
    r, text = saved(b, "/tips", {"verb": "tip verify", "id": "tip-many-204"})
    check(r.status == 200 and "(tip-many-204)" in text,
          f"verifying the 205th tip: {r.status} {notices(text)}")


def test_notice(port):
    b = login(port, "clerk1")
    r, text = b.get("/notices")
    m = re.search(r'<datalist id="f-notice-add-compound-list">(.*?)</datalist>', text, re.S)
    check(m and '<option value="Riverside 3">' in m[1] and '<option value="Hill 1">' in m[1],
          f"/notices: the compounds persons live in are not suggested ({r.status})")
    r, text = saved(b, "/notices", {"verb": "notice add", "compound": "Riverside 3",
                                    "audience": "居民", "date": "2026/12/6"})
    check(r.status == 200 and "Saved: a notice to Riverside 3" in text,
          f"a notice: {r.status} {notices(text)}")
    rows = json.loads(hamlet(V, "list", "notice", "--json"))
    check(len(rows) == 1 and rows[0]["fields"].get("audience") == "residents" and
          rows[0]["fields"].get("date") == "2026-12-06", f"the notice as written: {rows}")
    r, text = post_form(b, "/notices", {"verb": "notice add", "compound": "Riverside 3"})
    check(r.status == 400 and error_beside(text, "notice-add", "audience"),
          f"a notice without its audience: {r.status}")
    r, _ = login(port, "doc1").get("/notices")
    check(r.status == 403, f"GET /notices as a doctor: {r.status}, not 403")


def accesses():
    return json.loads(hamlet(V, "list", "access", "--json"))


def test_doctor(port):
    d = login(port, "doc1")
    r, text = d.get("/person/p-li")
    check(r.status == 200 and "Li Wei" in text, f"the doctor's /person/p-li: {r.status}")
    check(PHONE not in text and IDNUM not in text, "the doctor sees the phone or ID in clear")
    check("138******00" in text and "110*************2X" in text,
          "the doctor does not see the masked phone and ID number")
    check("/person/p-li/reveal" not in text, "the doctor is offered a reveal button")
    token = d.csrf("/person/p-li")
    n = len(accesses())
    r, text = d.post("/person/p-li/reveal", {"csrf": token})
    check(r.status == 403 and PHONE not in text, f"the doctor's reveal: {r.status}, not 403")
    check(len(accesses()) == n, "the doctor's refused reveal wrote to the access log")


def test_officer(port):
    o = login(port, "off1")
    r, text = o.get("/person/p-li")
    check(r.status == 200 and PHONE not in text and "/person/p-li/reveal" in text,
          f"the officer's /person/p-li before a reveal: {r.status}")
    check("/person/p-li/contact" not in text, "the officer is offered the contact form")
    r, text = o.post("/person/p-li/reveal", {"csrf": o.csrf("/person/p-li")})
    check(r.status == 200 and PHONE in text and IDNUM in text,
          f"the officer's reveal: {r.status}, numbers shown: {PHONE in text}")
    got = [a["fields"] for a in accesses()]
    check(any(a.get("actor") == "off1" and a.get("action") == "reveal" and
              "p-li" in a.get("what", "") for a in got),
          f"no access record naming the officer: {got}")
    r, _ = o.post("/person/p-li/contact", {"csrf": o.csrf("/person/p-li"), "verb": "contact add",
                                           "contact": "p-wang"})
    check(r.status == 403, f"an officer adding a contact: {r.status}, not 403")


def test_contact_suggestions(port):
    """A contact is suggested from those who live nearest: the household, the compound, then the
    rest (each by id)."""
    b = login(port, "clerk1")
    r, text = b.get("/person/p-wang")
    m = re.search(r'<datalist id="[^"]*contact-list">(.*?)</datalist>', text, re.S)
    check(r.status == 200 and m, f"/person/p-wang: no contact suggestions ({r.status})")
    ids = re.findall(r'<option value="([^"]+)"', m[1]) if m else []
    check(ids[:2] == ["p-zz-home", "p-yy-yard"] and "p-a-far" in ids and "p-wang" not in ids,
          f"/person/p-wang suggests contacts in the order {ids}")


def test_contacts(port):
    b = login(port, "clerk1")
    page = "/person/p-li"
    n = len(accesses())
    r, text = b.get(page)
    check(r.status == 200 and "/person/p-li/reveal" not in text and PHONE not in text,
          f"the clerk's {page}: {r.status}")
    # names shown in clear: the reveal recorded first, under the clerk's name (review #12, 2)
    got = [a["fields"] for a in accesses()]
    check(len(got) == n + 1 and got[-1].get("actor") == "clerk1" and
          got[-1].get("action") == "reveal" and "p-li" in got[-1].get("what", ""),
          f"GET {page} as the clerk: the access log grew {n} -> {len(got)}: {got[n:]}")
    writes = lambda: (hamlet(V, "list", "exposure", "--json"),
                      hamlet(V, "list", "followup", "--json"))
    fields = {"verb": "contact add", "contact": "p-wang", "mode": "共同用餐",
              "last_date": "2026/11/30"}
    r, text = saved(b, page, fields, "/person/p-li/contact", writes)
    check(r.status == 200 and "Saved: a contact: Wang Fang" in text,
          f"a contact: {r.status} {notices(text)}")
    check('<th>Other person</th><th>Relation</th>' in text and
          '<a href="/person/p-wang">Wang Fang</a></td><td>Contact of this person</td>' in text,
          "the contact is not on the page with its relation")
    rows = [x["fields"] for x in json.loads(hamlet(V, "list", "exposure", "--json"))]
    check(rows == [dict(rows[0], source="p-li", contact="p-wang", degree=2, mode="meal",
                        last_date="2026-11-30")] if rows else False,
          f"the contact as written (p-li is a close contact: degree 2): {rows}")
    before = writes()
    r, text = post_form(b, page, dict(fields, contact="p-ghost"), "/person/p-li/contact")
    err = error_beside(text, "contact-add", "contact")
    check(r.status == 400 and err and "p-ghost" in err, f"a contact with p-ghost: {err}")
    check(re.search(r'id="f-contact-add-contact"[^>]* value="p-ghost"', text),
          "the refused contact's value is not kept")
    check(writes() == before, "a refused contact was written")
    r, text = saved(b, page, {"verb": "contact add", "contact": "p-evil"},
                    "/person/p-li/contact", writes)
    check(r.status == 200 and SCRIPT not in text and ESCAPED in text,
          "a contact named with a script is not escaped on the person page")
    r, text = saved(b, page, {"verb": "followup add", "temperature": "37.2",
                              "method": "上门"}, "/person/p-li/followup", writes)
    check(r.status == 200 and "Saved: a follow-up of Li Wei" in text and "37.2" in text,
          f"a follow-up: {r.status} {notices(text)}")
    # what the save said beyond the record (a note: no episode running) survives the redirect
    check("has no episode running" in " ".join(notices(text)),
          f"the follow-up's note after the redirect: {notices(text)}")
    r, text = b.get("/person/p-evil")
    check(r.status == 200 and SCRIPT not in text and ESCAPED in text,
          "/person/p-evil shows the script raw or not at all")
    r, _ = b.get("/person/p-nobody")
    check(r.status == 404, f"/person/p-nobody: {r.status}, not 404")


def test_question(port):
    r, text = login(port, "doc1").get("/person/p-zhao")
    m = re.search(r"identity</h2>.*?<td>([^<]*)</td>", text, re.S)
    check(r.status == 200 and m and {m.group(1), re.search(r"<h2>([^<]*) <code>", text).group(1)}
          == {"Zhao Lei A", "Zhao Lei B"},
          f"the name two stations wrote at once: {r.status}, the question: {m and m.group(1)}")


def main():
    setup()
    ui = Server(V, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    try:
        for t in (test_stock, test_tips, test_notice, test_doctor, test_officer,
                  test_contact_suggestions, test_contacts, test_question, test_many_tips):
            t(ui.port)
    finally:
        rc = finish("web_forms", [ui])
    return rc


if __name__ == "__main__":
    sys.exit(main())
