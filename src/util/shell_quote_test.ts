import assert from "node:assert/strict";
import { shellCommand, shellQuote } from "./shell_quote.ts";

Deno.test("shellQuote: single quotes, a quote inside written as '\\''", () => {
  assert.equal(shellQuote("plain"), "'plain'");
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('$HOME `x` "y" \\ *'), `'$HOME \`x\` "y" \\ *'`);
});

Deno.test("shellCommand: a word of safe characters stays bare, any other is quoted", () => {
  assert.equal(
    shellCommand(["faultline", "replay", "run.trace", "--fault", "eio@write#3", "--seed", "7"]),
    "faultline replay run.trace --fault 'eio@write#3' --seed 7",
  );
  assert.equal(
    shellCommand(["--fault-at=24", "a,b:c%d+e", "", "a b", "~", "it's"]),
    [
      "--fault-at=24",
      "a,b:c%d+e",
      "''",
      "'a b'",
      "'~'",
      `'it'\\''s'`,
    ].join(" "),
  );
});

Deno.test("shellQuote and shellCommand: /bin/sh reads each word back as it was", async () => {
  const words = ["plain", "", "it's", "a 'b' c", "$(id) `id` ${x}", "back\\slash", "new\nline"];
  words.push("*?[", "é ü", "#comment", "a=b", "-n");
  for (const command of [words.map(shellQuote).join(" "), shellCommand(words)]) {
    const script = `printf '%s\\0' ${command}`;
    const output = await new Deno.Command("/bin/sh", { args: ["-c", script] }).output();
    assert.ok(output.success);
    const read = new TextDecoder().decode(output.stdout).split("\0").slice(0, -1);
    assert.deepEqual(read, words);
  }
});
