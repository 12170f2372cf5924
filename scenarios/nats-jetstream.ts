/**
 * NATS 2.9 JetStream, three servers (scenarios/_nats.ts), a file-backed stream of 3
 * replicas. The client on n3 publishes 30 messages and acknowledges each once the
 * publish ack (`{"stream":"LOG","seq":N}`) came back; the check reads the stream back.
 *
 * JetStream acknowledges a message once a quorum of the stream's replicas stored it,
 * and stores a message by writing it to the operating system, not by fsyncing it:
 * "under the default configuration, JetStream does not immediately `fsync` data to disk"
 * (NATS's documentation, JetStream, "Syncing data to disk", which goes on to say that a
 * replicated stream can lose recently acknowledged messages when its servers all fail at
 * once before the data was fsynced).
 * Debian 12's nats-server 2.9.10 knows no `sync_interval` option (its binary holds no such
 * word), so nothing makes it fsync before the ack. A power loss of the whole cluster during
 * the publishes loses acknowledged messages by design: faultline must find it (`detect`).
 *
 * Measured on 2026-12-07 (docs/findings.md, "Repeat rates and load"): in one recording the
 * disks saw no op at all from the stream's creation (82 s) to ext4's journal commit at 89 s,
 * while 28 messages were acknowledged; a power loss at that flush, at the next during
 * `publish 29`, and at one after the 30th ack lost every acknowledged message (acked 28,
 * 28, 30; found 0), each failing in 3 of 3 runs.
 */
import { defineScenario } from "../mod.ts";
import { publish, readBack, server } from "./_nats.ts";

export default defineScenario({
  name: "nats-jetstream",
  description:
    "NATS 2.9 JetStream, 3 replicas: a cluster power loss loses acknowledged messages (no fsync before the ack)",
  nodes: {
    n1: server(),
    n2: server(),
    n3: server({ workload: publish(30), check: readBack }),
  },
  client: "n3",
  expect: { noLostAcks: true },
  faults: [
    // The whole cluster loses power at flushes of any server's disk. In the measured
    // recording (112 flushes) the 36th, 41st and 45th each lost every ack, stable 3/3, and
    // every 20th takes the 41st (op 1452); another recording may place the publishes
    // elsewhere among its flushes.
    { fault: "power-loss", points: "flushes,every:20", outcome: "detect" },
  ],
  timeouts: { boot: "60s", run: "240s", check: "180s" },
});
