import assert from "node:assert/strict";
import { exitCodeForError } from "./errors.ts";
import { exitCodeOf, Interrupted } from "./interrupt.ts";

/** A process that runs `withInterrupt` as a command does, once it listens for signals. */
interface Interruptible {
  child: Deno.ChildProcess;
  /** Its exit, and what it printed on stderr. */
  ended: Promise<{ status: Deno.CommandStatus; stderr: string }>;
}

/**
 * Starts a process whose work prints "ready" (the listeners are in place) and waits: until
 * its signal aborts (the work then ends by `ends`), or forever (`ends: "never"`).
 */
async function interruptible(ends: "returning" | "throwing" | "never"): Promise<Interruptible> {
  const here = new URL(".", import.meta.url).href;
  const script = `
    import { withInterrupt } from "${here}interrupt.ts";
    import { errorLine, exitCodeForError } from "${here}errors.ts";
    try {
      await withInterrupt((signal) => {
        console.log("ready");
        return new Promise((resolve, reject) => {
          if (${JSON.stringify(ends)} === "never") return;
          signal.addEventListener("abort", () =>
            ${JSON.stringify(ends)} === "returning" ? resolve(7) : reject(new Error("aborted")));
        });
      }, { kept: (result) => "kept " + result });
      Deno.exit(0);
    } catch (error) {
      console.error(errorLine(error));
      Deno.exit(exitCodeForError(error));
    }
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before it was ready: ${await stderr}`);
    text += value;
  }
  const rest = (async () => {
    while (!(await reader.read()).done) { /* drained */ }
  })();
  return {
    child,
    ended: Promise.all([child.status, stderr, rest]).then(([status, stderr]) => ({
      status,
      stderr,
    })),
  };
}

for (
  const [signal, code, ends] of [
    ["SIGINT", 130, "returning"],
    ["SIGTERM", 143, "throwing"],
  ] as const
) {
  Deno.test(`interrupt: ${signal} exits ${code}, saying what the command kept`, async () => {
    const { child, ended } = await interruptible(ends);
    child.kill(signal);
    const { status, stderr } = await ended;
    assert.equal(status.code, code, stderr);
    assert.equal(status.signal, null, "it exited, it was not killed by the signal");
    assert.equal(
      stderr.trim(),
      `faultline: interrupted by ${signal}: kept ${ends === "returning" ? 7 : undefined}`,
    );
  });
}

Deno.test("interrupt: a second signal exits at once, with the first one's code", async () => {
  const { child, ended } = await interruptible("never");
  child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGINT");
  const { status, stderr } = await ended;
  assert.equal(status.code, 130, stderr);
  assert.equal(status.signal, null, "it exited, it was not killed by the signal");
});

Deno.test("interrupt: the codes are 128 + the signal's number, by the error's kind", () => {
  assert.equal(exitCodeOf("SIGINT"), 128 + 2);
  assert.equal(exitCodeOf("SIGTERM"), 128 + 15);
  assert.equal(exitCodeForError(new Interrupted("SIGINT")), 130);
  assert.equal(exitCodeForError(new Interrupted("SIGTERM", "x")), 143);
  assert.equal(new Interrupted("SIGTERM", "x").message, "interrupted by SIGTERM: x");
});
