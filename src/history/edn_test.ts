import assert from "node:assert/strict";
import { readEdn } from "./edn.ts";
import { EdnSymbol, formatValue, Keyword, ValueMap, ValueSet } from "./value.ts";

const one = (text: string) => {
  const forms = readEdn(text);
  assert.equal(forms.length, 1, text);
  return forms[0].value;
};

Deno.test("edn: scalars", () => {
  assert.equal(one("nil"), null);
  assert.equal(one("true"), true);
  assert.equal(one("false"), false);
  assert.equal(one("42"), 42);
  assert.equal(one("-7"), -7);
  assert.equal(one("+3"), 3);
  assert.equal(one("12N"), 12);
  assert.equal(one("123456789012345678901234567890"), 123456789012345678901234567890n);
  assert.equal(one("1.5"), 1.5);
  assert.equal(one("-2.5e3"), -2500);
  assert.equal(one("0.25M"), 0.25);
  assert.equal(one("1/4"), 0.25);
  assert.equal(one("0x1f"), 31);
  assert.equal(one('"a\\"b\\n\\u0041"'), 'a"b\nA');
  assert.equal(one("\\a"), "a");
  assert.equal(one("\\newline"), "\n");
  assert.deepEqual(one(":read"), new Keyword("read"));
  assert.deepEqual(one(":jepsen/timed-out"), new Keyword("jepsen/timed-out"));
  assert.deepEqual(
    one("java.net.SocketTimeoutException"),
    new EdnSymbol("java.net.SocketTimeoutException"),
  );
});

Deno.test("edn: collections, comments, discards and tags", () => {
  assert.deepEqual(one("[1 (2 3) #{4}]"), [1, [2, 3], new ValueSet([4])]);
  const map = one("{:process 0, :type :invoke ; a comment\n :value [1 nil]}");
  assert.ok(map instanceof ValueMap);
  assert.equal(map.get("process"), 0);
  assert.deepEqual(map.get("type"), new Keyword("invoke"));
  assert.deepEqual(map.get("value"), [1, null]);
  assert.equal(map.get("time"), undefined);
  assert.deepEqual(one("[1 #_ 2 3]"), [1, 3]);
  assert.equal(formatValue(one("#jepsen.history.Op{:index 0, :f :read}")), "{:f :read, :index 0}");
  assert.equal(one('#inst "2024-01-01"'), "2024-01-01");
  assert.deepEqual(one('#object[java.lang.Foo 0x1b "x"]'), [
    new EdnSymbol("java.lang.Foo"),
    27,
    "x",
  ]);
});

Deno.test("edn: every top-level form with the line it starts on, strings across lines counted", () => {
  const forms = readEdn('; header\n{:a 1}\n\n{:b "x\ny"}\n[{:c 3}\n {:d 4}]\n');
  assert.deepEqual(forms.map((f) => f.line), [2, 4, 6]);
  const vector = forms[2].value as ValueMap[];
  assert.deepEqual(vector.map((m) => m.line), [6, 7]);
  assert.deepEqual(readEdn("   \n ; only a comment\n"), []);
});

Deno.test("edn: syntax errors name the file and the line", () => {
  assert.throws(
    () => readEdn("{:a 1}\n{:b", { file: "h.edn" }),
    /^HistoryError: h\.edn:2: expected "}" before the end/,
  );
  assert.throws(
    () => readEdn("{:a}", { file: "h.edn" }),
    /h\.edn:1: expected a map with a value for every key/,
  );
  assert.throws(
    () => readEdn('\n\n"open', { file: "h.edn" }),
    /h\.edn:3: expected the string's closing quote/,
  );
  assert.throws(() => readEdn("[1 2)"), /line 1: unexpected "\)"/);
  assert.throws(() => readEdn("1x2"), /expected a number, found "1x2"/);
  assert.throws(() => readEdn('"\\q"'), /unknown escape "\\q"/);
});

Deno.test("edn: canonical text: equal values, equal texts", () => {
  assert.equal(formatValue(one("#{3 1 2}")), formatValue(one("#{2 3 1}")));
  assert.equal(formatValue(one("{:b 2 :a 1}")), formatValue(one("{:a 1, :b 2}")));
  assert.notEqual(formatValue(one(":a")), formatValue(one('"a"')));
  assert.equal(formatValue(one('[1 "x" nil :k sym]')), '[1 "x" nil :k sym]');
});
