/**
 * An application that appends numbered records to a log on ext4, fsyncs after
 * each, and acknowledges a record only after its fsync returned. The check
 * reports every complete record it finds. Correct code: no acknowledged
 * record may be lost, whatever the disk does before it reports success.
 */
import { defineScenario } from "../mod.ts";

export default defineScenario({
  name: "fsync-log",
  description: "append, fsync, acknowledge: every acknowledged record survives",
  nodes: {
    app: {
      disks: { data: { size: "32M", filesystem: "ext4", mount: "/data" } },
      workload: `
        payload=0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz
        i=1
        while [ "$i" -le 16 ]; do
          report step "record $i"           # every op from here on carries the step
          printf 'record %d %s end\\n' "$i" "$payload" >>/data/log || exit 1
          sync /data/log || exit 1          # busybox: sync FILE fsyncs it
          report ack "$i"
          i=$((i + 1))
        done
      `,
      check: `
        [ -f /data/log ] || exit 0
        while read -r tag n payload end; do
          if [ "$tag" = record ] && [ "$end" = end ] && [ "\${#payload}" -eq 72 ]; then
            report have "$n"
          fi
        done </data/log
      `,
    },
  },
  expect: { noLostAcks: true },
  faults: [
    // Power lost as any flush arrives: every record acknowledged before survives.
    { fault: "power-loss", points: "flushes" },
    // An I/O error on some ops: the application fails (or retries) and never acknowledges a lost record.
    { fault: "eio", points: "every:16" },
  ],
  timeouts: { run: "90s", check: "60s" },
});
