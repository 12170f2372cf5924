/**
 * The processes a test started, seen through /proc: a program's children, and whether a
 * process still runs. For the tests that stop faultline and check that nothing is left.
 *
 * @module
 */

/**
 * The processes whose parent is `pid`, optionally only those whose command starts with
 * `command` (such as `qemu-system`).
 *
 * @example
 * ```ts
 * const qemus = await childProcesses(child.pid, "qemu-system");
 * ```
 */
export async function childProcesses(pid: number, command = ""): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[1]) === pid && comm.startsWith(command)) found.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return found;
}

/**
 * Whether a process runs (a zombie, ended but not yet waited for, does not).
 *
 * @example
 * ```ts
 * assert.equal(await isAlive(qemu), false);
 * ```
 */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
