/**
 * `mlw push [RUN…]` and `mlw pull`: publish runs (and their artifacts and models) to the team, and
 * bring the team's in; `mlw models promote|list`: named, versioned models.
 */
import type { Command } from 'commander';
import { stderrLogger } from '../context';
import { listModels } from '../results/models';
import { promoteRunModel, pullRuns, pushRuns } from '../results/publish';
import { reproduceRun, sideBySide, type MetricSideBySide } from '../results/reproduce';
import { UserError } from '../errors';
import { logLine } from '../runs/format';
import { repositoryRoot } from '../runs/snapshot';
import { openWorkspaceRuns } from '../runs/workspace';

interface ResultsOptions {
  readonly remote?: string;
  readonly json?: boolean;
}

export function registerResultsCommands(program: Command): void {
  program
    .command('push')
    .description(
      "Publish finished runs (default: every one not pushed yet) to the branch's git remote under refs/mlw/runs/.",
    )
    .argument('[runs...]', 'run ids or unique prefixes')
    .option('--remote <name>', 'the git remote (default: the branch upstream, else origin)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (runIds: string[], options: ResultsOptions) => {
      const service = openWorkspaceRuns(process.cwd(), stderrLogger);
      try {
        const report = await pushRuns(service.store, await repositoryRoot(process.cwd()), {
          ...(options.remote ? { remote: options.remote } : {}),
          runIds,
          workspaceRoot: service.workspaceRoot,
          log: stderrLogger,
        });
        // Said even with --json: artifacts left behind must not go unnoticed.
        if (report.artifacts.localOnly) process.stderr.write(`mlw: artifacts not uploaded: ${report.artifacts.localOnly}\n`);
        if (report.unpushedCommits.length > 0) {
          process.stderr.write(
            `mlw: warning: ${report.remote} has no branch with commit(s) ${report.unpushedCommits.map((commit) => commit.slice(0, 12)).join(', ')} the runs ran at: teammates cannot reproduce them until you \`git push\` it\n`,
          );
        }
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          const { artifacts } = report;
          if (artifacts.remote) {
            process.stderr.write(
              `mlw: ${artifacts.transferred} artifact object(s) uploaded to the data remote ${artifacts.remote} (${artifacts.skipped} already there)\n`,
            );
          }
          process.stderr.write(
            `mlw: ${report.published.length} run(s) published to ${report.remote}${report.published.length === 0 ? ' (it had them all)' : ''}\n`,
          );
          if (report.models.length > 0) process.stderr.write(`mlw: model(s) published: ${report.models.join(', ')}\n`);
        }
      } finally {
        await service.close();
      }
    });
  program
    .command('pull')
    .description("Fetch teammates' runs (refs/mlw/runs/*) from the git remote into this workspace's Runs list.")
    .option('--remote <name>', 'the git remote (default: the branch upstream, else origin)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (options: ResultsOptions) => {
      const service = openWorkspaceRuns(process.cwd(), stderrLogger);
      try {
        const report = await pullRuns(
          service.store,
          await repositoryRoot(process.cwd()),
          { ...(options.remote ? { remote: options.remote } : {}), workspaceRoot: service.workspaceRoot, log: stderrLogger },
        );
        const { artifacts } = report;
        for (const failure of artifacts.failed) {
          process.stderr.write(`mlw: artifact ${failure.md5} not fetched from ${artifacts.remote}: ${failure.error}\n`);
        }
        if (artifacts.localOnly) process.stderr.write(`mlw: artifacts not fetched: ${artifacts.localOnly}\n`);
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          process.stderr.write(`mlw: ${report.imported.length} new run(s) from ${report.remote}\n`);
          if (report.models.length > 0) process.stderr.write(`mlw: new model version(s): ${report.models.join(', ')}\n`);
          if (artifacts.remote && artifacts.transferred > 0) {
            process.stderr.write(`mlw: ${artifacts.transferred} artifact object(s) fetched from the data remote ${artifacts.remote}\n`);
          }
        }
      } finally {
        await service.close();
      }
    });
  registerModelsCommands(program);
  registerReproduceCommand(program);
}

/** `mlw runs reproduce RUN`, added to the `runs` command registered by cli/runs.ts. */
function registerReproduceCommand(program: Command): void {
  const runs = program.commands.find((command) => command.name() === 'runs') ?? program.command('runs');
  runs
    .command('reproduce')
    .description(
      "Re-run a run (yours or a teammate's) at its commit and dataset versions, in its environment, in a worktree under .mlw/reproduce/; prints both runs' metrics side by side.",
    )
    .argument('<run>', 'a run id or unique prefix')
    .option('--json', 'print {original, reproduction, metrics} as JSON on stdout')
    .action(async (run: string, options: { json?: boolean }) => {
      const service = openWorkspaceRuns(process.cwd(), stderrLogger);
      try {
        const reproduction = await reproduceRun(service, run, stderrLogger);
        process.stderr.write(
          `mlw: reproducing run ${reproduction.original} as ${reproduction.ids.join(', ')} in ${reproduction.worktree}${reproduction.datasets.length > 0 ? ` (datasets: ${reproduction.datasets.join(', ')})` : ''}\n`,
        );
        service.on('log', (id, entries) => {
          if (!reproduction.ids.includes(id)) return;
          for (const entry of entries) process.stderr.write(`${logLine(entry)}\n`);
        });
        const original = await service.get(reproduction.original);
        const results = await Promise.all(reproduction.ids.map((id) => service.finished(id)));
        const report = results.map((again) => ({ reproduction: again.id, status: again.status, metrics: sideBySide(original, again) }));
        if (options.json) process.stdout.write(`${JSON.stringify({ original: original.id, worktree: reproduction.worktree, runs: report }, null, 2)}\n`);
        else for (const entry of report) process.stdout.write(metricsTable(original.id, entry.reproduction, entry.metrics));
        const failed = results.filter((again) => again.status !== 'succeeded');
        if (failed.length > 0) throw new UserError(`the reproduction ${failed[0]!.id} ${failed[0]!.status}: see \`mlw runs logs ${failed[0]!.id}\``);
      } finally {
        await service.close();
      }
    });
}

function metricsTable(originalId: string, reproductionId: string, metrics: readonly MetricSideBySide[]): string {
  const show = (value: number | null) => (value === null ? '—' : String(value));
  const rows = [['METRIC', originalId, reproductionId], ...metrics.map((metric) => [metric.name, show(metric.original), show(metric.reproduction)])];
  if (metrics.length === 0) rows.push(['(no metrics)', '', '']);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`).join('');
}

interface PromoteOptions {
  readonly name: string;
  readonly artifact?: string;
  readonly remote?: string;
  readonly json?: boolean;
}

function registerModelsCommands(program: Command): void {
  const models = program.command('models').description("Named, versioned models: a run's artifact promoted, recorded in git.");
  models
    .command('promote')
    .description("Record a run's artifact as the next version of a named model (refs/mlw/models/NAME/vN; shared by mlw push).")
    .argument('<run>', 'a run id or unique prefix')
    .requiredOption('--name <name>', 'the model name (e.g. iris-classifier)')
    .option('--artifact <path>', "the artifact's path as the run recorded it (default: its only artifact)")
    .option('--remote <name>', 'the git remote whose model versions are fetched first (default: the branch upstream, else origin)')
    .option('--json', 'print the model version as JSON on stdout')
    .action(async (run: string, options: PromoteOptions) => {
      const service = openWorkspaceRuns(process.cwd(), stderrLogger);
      try {
        const model = await promoteRunModel(service.store, await repositoryRoot(process.cwd()), {
          runId: run,
          name: options.name,
          ...(options.artifact !== undefined ? { artifact: options.artifact } : {}),
          ...(options.remote !== undefined ? { remote: options.remote } : {}),
        });
        if (options.json) process.stdout.write(`${JSON.stringify(model, null, 2)}\n`);
        else process.stdout.write(`${model.name} v${model.version}: ${model.artifact.path} of run ${model.runId} (share it with mlw push)\n`);
      } finally {
        await service.close();
      }
    });
  models
    .command('list')
    .description('Every model version, promoted here or pulled from the team.')
    .option('--json', 'print JSON on stdout')
    .action(async (options: { json?: boolean }) => {
      const listed = await listModels(await repositoryRoot(process.cwd()));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
        return;
      }
      if (listed.length === 0) {
        process.stderr.write('mlw: no models yet (mlw models promote RUN --name NAME)\n');
        return;
      }
      const rows = listed.map((model) => [
        model.name,
        `v${model.version}`,
        model.runId,
        model.artifact.path,
        Object.entries(model.metrics)
          .map(([metric, value]) => `${metric}=${value}`)
          .join(' '),
        `${model.promotedBy.replace(/ <.*>$/, '')} ${new Date(model.promotedAt).toISOString().slice(0, 16).replace('T', ' ')}`,
      ]);
      const table = [['NAME', 'VERSION', 'RUN', 'ARTIFACT', 'METRICS', 'PROMOTED'], ...rows];
      const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
      for (const row of table) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
    });
}
