/** `mlw push [RUN…]` and `mlw pull`: publish runs to the team through git, and bring the team's runs in. */
import type { Command } from 'commander';
import { stderrLogger } from '../context';
import { pullRuns, pushRuns } from '../results/publish';
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
          if (artifacts.remote && artifacts.transferred > 0) {
            process.stderr.write(`mlw: ${artifacts.transferred} artifact object(s) fetched from the data remote ${artifacts.remote}\n`);
          }
        }
      } finally {
        await service.close();
      }
    });
}
