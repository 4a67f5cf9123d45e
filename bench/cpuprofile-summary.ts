/**
 * Where the time of a `node --cpu-prof` run went: self and inclusive time per function (file:line),
 * garbage collection included, largest first.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/validate-core.ts --runs 30
 *   npx tsx bench/cpuprofile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top N]
 *
 * Under tsx every file's functions are reported at line 2 or so (its transform); the names still
 * tell them apart.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`;
}

/** Microseconds per function: self (the function itself) and inclusive (it and what it called). */
function summarise(profile: CpuProfile): { self: Map<string, number>; inclusive: Map<string, number>; total: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, index) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, time] of timeOf) {
    total += time;
    const own = label(byId.get(id)!);
    self.set(own, (self.get(own) ?? 0) + time);
    const counted = new Set<string>(); // a recursive function counts once per sample
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const name = label(byId.get(at)!);
      if (counted.has(name)) continue;
      counted.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + time);
    }
  }
  return { self, inclusive, total };
}

function table(times: Map<string, number>, total: number, top: number): string {
  return [...times]
    .sort((left, right) => right[1] - left[1])
    .slice(0, top)
    .map(([name, time]) => `${(time / 1000).toFixed(0).padStart(8)} ms ${((100 * time) / total).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top N]');
  const topIndex = process.argv.indexOf('--top');
  const top = topIndex === -1 ? 40 : Number(process.argv[topIndex + 1]);
  const { self, inclusive, total } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  process.stdout.write(`total ${(total / 1000).toFixed(0)} ms\n--- self\n${table(self, total, top)}\n--- inclusive\n${table(inclusive, total, top)}\n`);
}

main();
