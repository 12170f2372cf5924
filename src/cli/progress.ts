/**
 * Progress of long commands (`sweep`, `ci`, `replay --runs`) as lines on stderr: what is
 * done of how much, the findings so far and the time left, at least every 10 s, even while
 * nothing finishes (a cluster's replay takes minutes; a CI log that stays silent that long
 * looks hung). A terminal keeps the sweep's bar (src/cli/sweep.ts).
 *
 * @module
 */

import { formatDuration } from "../util/units.ts";

/** How often a line is printed while the work goes on. */
export const PROGRESS_EVERY_MS = 10_000;

/** Where long work stands, as the command measured it last. */
export interface Progress {
  /** The command: `sweep`, `ci`, `replay`. */
  work: string;
  /** Where it is, when there is more to say: `check 3 of 7 (fsync-log.ts: power-loss at flushes)`. */
  stage?: string;
  /** How many `unit` are done. */
  done: number;
  /** How many there are in all; null while not known yet (preparing). */
  total: number | null;
  /** What is counted: `points`, `runs`. */
  unit: string;
  /** Findings so far: failing points, failing runs. */
  findings: number;
  /** Milliseconds left when measured; null when there is no rate yet. */
  etaMs: number | null;
}

/**
 * When a progress line is due: the first at once, then one every `everyMs`. Pure; its
 * clock is given, so a test can step it.
 *
 * @example
 * ```ts
 * const pace = new ProgressPace(10_000, () => performance.now());
 * if (pace.take()) print(line);
 * ```
 */
export class ProgressPace {
  #last: number | null = null;

  constructor(readonly everyMs: number, private readonly now: () => number) {}

  /** Whether a line is due now; when it is, it counts as printed. */
  take(): boolean {
    const now = this.now();
    if (this.#last !== null && now - this.#last < this.everyMs) return false;
    this.#last = now;
    return true;
  }

  /** Counts a line printed now, whether due or not (one the work asked for). */
  mark(): void {
    this.#last = this.now();
  }

  /** Milliseconds until the next line is due (0: now). */
  wait(): number {
    return this.#last === null ? 0 : Math.max(0, this.#last + this.everyMs - this.now());
  }
}

/**
 * A duration in whole seconds, rounded up: `45 s`, `3 min 5 s`.
 *
 * @example
 * ```ts
 * roughDuration(44_100); // "45 s"
 * ```
 */
export function roughDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1000);
}

/**
 * One progress line. `elapsedMs` is how long the work has run; `sinceMs` how long ago the
 * progress was measured, taken off its time left.
 *
 * @example
 * ```ts
 * progressLine({ work: "sweep", done: 12, total: 40, unit: "points", findings: 1, etaMs: 200_000 }, { elapsedMs: 95_000, sinceMs: 5_000 });
 * // "sweep: 12/40 points, 1 failing so far, 1 min 35 s in, about 3 min 15 s left"
 * ```
 */
export function progressLine(
  progress: Progress,
  times: { elapsedMs: number; sinceMs: number },
): string {
  const where = progress.stage ? ` ${progress.stage}:` : "";
  const elapsed = `${roughDuration(times.elapsedMs)} in`;
  if (progress.total === null) return `${progress.work}:${where} preparing, ${elapsed}`;
  const left = progress.etaMs === null
    ? "time left not known yet"
    : progress.done >= progress.total
    ? "done"
    : `about ${roughDuration(Math.max(1000, progress.etaMs - times.sinceMs))} left`;
  return `${progress.work}:${where} ${progress.done}/${progress.total} ${progress.unit}, ${progress.findings} failing so far, ${elapsed}, ${left}`;
}

/** Options of {@link pacedProgress}. */
export interface PacedProgressOptions<T> {
  /** Writes one line (to stderr). */
  print: (line: string) => void;
  /**
   * The line of a progress, given how long the work has run and how long ago the progress
   * was measured ({@link progressLine} for a {@link Progress}).
   */
  format: (progress: T, times: { elapsedMs: number; sinceMs: number }) => string;
  /** Print every progress the work reports, not only when a line is due (JSON lines). */
  eager?: boolean;
  /** A line at least this often (default {@link PROGRESS_EVERY_MS}). */
  everyMs?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Run a timer (default; it does not keep the process alive); false: none, `tick` drives it. */
  timers?: boolean;
}

/** A progress printer: `show` what the work reports, `tick` when a line may be due, `stop` at the end. */
export interface PacedProgress<T> {
  /** The work's latest progress. */
  show(progress: T): void;
  /** Prints the latest progress if a line is due (the timer calls it). */
  tick(): void;
  /** No more lines. */
  stop(): void;
}

/**
 * Prints progress lines at a pace: the first at once, then the latest progress every
 * `everyMs` from a timer, with the time left counted down since it was measured. With
 * `eager`, every progress the work reports is printed too.
 *
 * @example
 * ```ts
 * const progress = pacedProgress({ print: (line) => console.error(line), format: progressLine });
 * progress.show({ work: "sweep", done: 0, total: null, unit: "points", findings: 0, etaMs: null });
 * // ... the work reports as it goes ...
 * progress.stop();
 * ```
 */
export function pacedProgress<T>(options: PacedProgressOptions<T>): PacedProgress<T> {
  const now = options.now ?? (() => performance.now());
  const { format } = options;
  const pace = new ProgressPace(options.everyMs ?? PROGRESS_EVERY_MS, now);
  const started = now();
  let latest: { progress: T; at: number } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const print = () => {
    if (!latest) return;
    const t = now();
    options.print(format(latest.progress, { elapsedMs: t - started, sinceMs: t - latest.at }));
  };
  const schedule = () => {
    if (options.timers === false || stopped) return;
    clearTimeout(timer);
    const next = setTimeout(tick, Math.max(1, pace.wait()));
    Deno.unrefTimer(next);
    timer = next;
  };
  const tick = () => {
    if (stopped) return;
    if (pace.take()) print();
    schedule();
  };
  return {
    show(progress) {
      if (stopped) return;
      latest = { progress, at: now() };
      if (options.eager) {
        pace.mark();
        print();
        schedule();
      } else tick();
    },
    tick,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
