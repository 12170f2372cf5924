import assert from "node:assert/strict";
import { type JunitCase, junitXml } from "./junit.ts";
import { prng } from "../../tests/support/random.ts";

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Characters XML 1.0 allows in a document (the `Char` production). */
const XML_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/**
 * A strict reader for the XML this module writes: a declaration, elements with
 * double-quoted attributes, text, the five predefined entities and decimal character
 * references (`&#60;`). It throws
 * on anything a conforming parser would refuse (a raw `<` or `&` in text or
 * attributes, a forbidden character, a mismatched end tag).
 */
function parseXml(xml: string): XmlElement {
  assert.match(xml, XML_CHAR, "only characters XML 1.0 allows");
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';
  assert.ok(xml.startsWith(declaration), "the declaration comes first");
  const entities: Record<string, string> = {
    lt: "<",
    gt: ">",
    amp: "&",
    quot: '"',
    apos: "'",
  };
  const decode = (raw: string, where: string) => {
    assert.ok(!raw.includes("<"), `a raw < in ${where}: ${raw}`);
    return raw.replace(/&([^;]*);|&/g, (match, name) => {
      const code = /^#(\d+)$/.exec(name ?? "");
      if (code) return String.fromCodePoint(Number(code[1]));
      assert.ok(name in entities, `a raw & or unknown entity ${match} in ${where}`);
      return entities[name];
    });
  };
  let at = declaration.length;
  const root: XmlElement = { name: "", attributes: {}, children: [], text: "" };
  const stack = [root];
  while (at < xml.length) {
    const open = xml.indexOf("<", at);
    const text = xml.slice(at, open < 0 ? xml.length : open);
    stack.at(-1)!.text += decode(text, "text");
    if (open < 0) break;
    const close = xml.indexOf(">", open);
    assert.ok(close > open, "an unclosed tag");
    const tag = xml.slice(open + 1, close);
    at = close + 1;
    if (tag.startsWith("/")) {
      const element = stack.pop()!;
      assert.equal(tag.slice(1), element.name, "the end tag matches");
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const name = /^[a-z]+/.exec(body)![0];
    const attributes: Record<string, string> = {};
    const rest = body.slice(name.length);
    const attribute = / ([a-z]+)="([^"]*)"/gy;
    let last = 0;
    for (let m; (m = attribute.exec(rest));) {
      assert.ok(!(m[1] in attributes), `attribute ${m[1]} twice`);
      attributes[m[1]] = decode(m[2], `attribute ${m[1]}`);
      last = attribute.lastIndex;
    }
    assert.equal(last, rest.length, `a malformed tag: <${tag}>`);
    const element = { name, attributes, children: [], text: "" };
    stack.at(-1)!.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  assert.equal(stack.length, 1, "every element is closed");
  assert.equal(root.children.length, 1, "one root element");
  return root.children[0];
}

Deno.test("junitXml: suites, cases, failures and skips with their counts", () => {
  const xml = junitXml([
    {
      name: "fsync-log power-loss",
      cases: [
        { name: "op 12", classname: "fsync-log", timeSeconds: 1.23456 },
        {
          name: "op 40",
          classname: "fsync-log",
          failure: {
            message: "1 acknowledged key lost (16)",
            text: "faultline replay t --fault-at 40",
          },
        },
        { name: "op 41", classname: "fsync-log", skipped: "the fault never fired" },
      ],
    },
    { name: "empty", cases: [] },
  ]);
  assert.ok(xml.endsWith("</testsuites>\n"));
  const root = parseXml(xml);
  assert.equal(root.name, "testsuites");
  assert.deepEqual(root.attributes, { tests: "3", failures: "1", skipped: "1" });
  const [suite, empty] = root.children;
  assert.deepEqual(suite.attributes, {
    name: "fsync-log power-loss",
    tests: "3",
    failures: "1",
    skipped: "1",
  });
  assert.deepEqual(empty, {
    name: "testsuite",
    attributes: { name: "empty", tests: "0", failures: "0", skipped: "0" },
    children: [],
    text: "\n  ",
  });
  const [passed, failed, skipped] = suite.children;
  assert.deepEqual(passed, {
    name: "testcase",
    attributes: { name: "op 12", classname: "fsync-log", time: "1.235" },
    children: [],
    text: "",
  });
  assert.deepEqual(failed.attributes, { name: "op 40", classname: "fsync-log" }, "no time given");
  assert.deepEqual(failed.children.map((c) => [c.name, c.attributes, c.text]), [[
    "failure",
    { message: "1 acknowledged key lost (16)" },
    "faultline replay t --fault-at 40",
  ]]);
  assert.deepEqual(skipped.children.map((c) => [c.name, c.attributes]), [[
    "skipped",
    { message: "the fault never fired" },
  ]]);
  assert.equal(parseXml(junitXml([])).children.length, 0);
  assert.deepEqual(parseXml(junitXml([])).attributes, { tests: "0", failures: "0", skipped: "0" });
});

Deno.test("junitXml: markup in names, messages and texts is escaped; control characters become U+FFFD", () => {
  const hostile = `a<b>&c"d'e </testcase><script>&amp;`;
  const control =
    "nul\u0000 bell\u0007 vt\u000b ff\u000c esc\u001b us\u001f tab\t lf\n cr\r del\u007f";
  const xml = junitXml([{
    name: hostile,
    cases: [{
      name: control,
      classname: hostile,
      failure: { message: hostile, text: `${hostile}\n${control}` },
    }, { name: "s", classname: "c", skipped: control }],
  }]);
  const suite = parseXml(xml).children[0];
  assert.equal(suite.attributes.name, hostile);
  const [failing, skipped] = suite.children;
  const kept =
    "nul\ufffd bell\ufffd vt\ufffd ff\ufffd esc\ufffd us\ufffd tab\t lf\n cr\r del\ufffd";
  assert.equal(failing.attributes.name, kept);
  assert.equal(failing.attributes.classname, hostile);
  assert.equal(failing.children[0].attributes.message, hostile);
  assert.equal(failing.children[0].text, `${hostile}\n${kept}`);
  assert.equal(skipped.children[0].attributes.message, kept);
});

Deno.test("junitXml: any text comes back from a strict reader as it went in, control characters as U+FFFD", () => {
  const random = prng(17);
  const alphabet = [
    ..."<>&\"';=/ \t\n\r#?!x",
    "\u0000",
    "\u0001",
    "\u0008",
    "\u000b",
    "\u001f",
    "\u0085",
    "é",
    "\u2028",
    "😀",
  ];
  const text = () => Array.from({ length: random.below(30) }, () => random.pick(alphabet)).join("");
  const allowed = (s: string) =>
    // deno-lint-ignore no-control-regex
    s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd");
  for (let round = 0; round < 300; round++) {
    const cases: JunitCase[] = Array.from({ length: 1 + random.below(3) }, () => ({
      name: text(),
      classname: text(),
      ...(random.chance(0.5) ? { failure: { message: text(), text: text() } } : {}),
    }));
    const suite = parseXml(junitXml([{ name: text(), cases }])).children[0];
    suite.children.forEach((element, i) => {
      assert.equal(element.attributes.name, allowed(cases[i].name), `round ${round}`);
      assert.equal(element.attributes.classname, allowed(cases[i].classname));
      const failure = cases[i].failure;
      if (failure) {
        assert.equal(element.children[0].attributes.message, allowed(failure.message));
        assert.equal(element.children[0].text, allowed(failure.text));
      }
    });
  }
});
