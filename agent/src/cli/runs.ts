/**
 * `mlw runs list|show|logs|cancel|compare|delete`: the workspace's runs from the terminal.
 * Every command takes `--json` (one JSON document on stdout, nothing else).
 */
import type { Command } from 'commander';
import { RunStatus } from '../../../schemas/protocol/runs';
import { stderrLogger } from '../context';
import { UsageError, UserError } from '../errors';
import { comparisonTable, logLine, runDetails, runsTable } from '../runs/format';
import type { RunService } from '../runs/service';
import { openWorkspaceRuns } from '../runs/workspace';

interface JsonOption {
  json?: boolean;
}

async function withRuns<T>(action: (service: RunService) => Promise<T>): Promise<T> {
  const service = openWorkspaceRuns(process.cwd(), stderrLogger);
  try {
    return await action(service);
  } finally {
    await service.close();
  }
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('List, inspect, follow, cancel, compare and delete runs.');

  runs
    .command('list')
    .description('The runs of this workspace, newest first, with their latest metrics.')
    .option('--status <statuses>', 'only runs with these statuses (comma-separated)')
    .option('--limit <n>', 'at most this many runs')
    .option('--json', 'print one JSON document on stdout')
    .action(async (options: JsonOption & { status?: string; limit?: string }) => {
      const status = options.status?.split(',').map((value) => {
        const parsed = RunStatus.safeParse(value.trim());
        if (!parsed.success) throw new UsageError(`runs list: --status ${value} is not one of ${RunStatus.options.join(', ')}`);
        return parsed.data;
      });
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw new UsageError(`runs list: --limit ${options.limit} is not a positive integer`);
      }
      await withRuns(async (service) => {
        const list = await service.list({ ...(status ? { status } : {}), ...(limit ? { limit } : {}) });
        if (options.json) printJson(list);
        else process.stdout.write(`${runsTable(list, Date.now())}\n`);
      });
    });

  runs
    .command('show')
    .description('Everything recorded about a run: code, environment, params, metrics, inputs, artifacts.')
    .argument('<run>', 'a run id or a unique prefix of one')
    .option('--json', 'print one JSON document on stdout')
    .action(async (prefix: string, options: JsonOption) => {
      await withRuns(async (service) => {
        const run = await service.get(prefix);
        const metrics = await service.store.metrics(run.id);
        if (options.json) printJson({ ...run, metrics });
        else process.stdout.write(`${runDetails(run, metrics, Date.now())}\n`);
      });
    });

  runs
    .command('logs')
    .description("A run's output (stdout, stderr, and mlw's own lines marked [mlw]).")
    .argument('<run>', 'a run id or a unique prefix of one')
    .option('--follow', 'keep printing as the run writes, until it ends')
    .option('--json', 'print one JSON document on stdout (the log entries)')
    .action(async (prefix: string, options: JsonOption & { follow?: boolean }) => {
      await withRuns(async (service) => {
        if (options.json) {
          const entries = [];
          const status = options.follow
            ? await service.followLog(prefix, 0, (batch) => entries.push(...batch))
            : (await service.get(prefix)).status;
          if (!options.follow) entries.push(...(await service.store.readLog(await service.store.resolveId(prefix))));
          printJson({ status, entries });
          return;
        }
        if (options.follow) {
          await service.followLog(prefix, 0, (batch) => {
            for (const entry of batch) process.stdout.write(`${logLine(entry)}\n`);
          });
          return;
        }
        const id = await service.store.resolveId(prefix);
        for (const entry of await service.store.readLog(id)) process.stdout.write(`${logLine(entry)}\n`);
      });
    });

  runs
    .command('cancel')
    .description('Cancel runs: queued ones at once, running ones with SIGTERM, then a kill after the grace period.')
    .argument('<runs...>', 'run ids or unique prefixes')
    .option('--json', 'print one JSON document on stdout')
    .action(async (prefixes: string[], options: JsonOption) => {
      await withRuns(async (service) => {
        const results = [];
        for (const prefix of prefixes) {
          const id = await service.store.resolveId(prefix);
          results.push({ id, status: await service.cancel(id) });
        }
        if (options.json) printJson(results);
        else for (const result of results) process.stdout.write(`${result.id} ${result.status === 'running' ? 'cancelling' : result.status}\n`);
      });
    });

  runs
    .command('compare')
    .description('Params and latest metrics of runs side by side; rows that differ are marked *.')
    .argument('<runs...>', 'two or more run ids or unique prefixes')
    .option('--json', 'print one JSON document on stdout')
    .action(async (prefixes: string[], options: JsonOption) => {
      if (prefixes.length < 2) throw new UsageError('runs compare: give at least two runs');
      await withRuns(async (service) => {
        const comparison = await service.compare(prefixes);
        if (options.json) printJson(comparison);
        else process.stdout.write(`${comparisonTable(comparison)}\n`);
      });
    });

  runs
    .command('delete')
    .description("Delete finished runs' records (their artifacts stay in the cache).")
    .argument('<runs...>', 'run ids or unique prefixes')
    .option('--json', 'print one JSON document on stdout')
    .action(async (prefixes: string[], options: JsonOption) => {
      await withRuns(async (service) => {
        const deleted: string[] = [];
        for (const prefix of prefixes) {
          const id = await service.store.resolveId(prefix);
          await service.delete(id);
          deleted.push(id);
        }
        if (options.json) printJson({ deleted });
        else for (const id of deleted) process.stdout.write(`deleted ${id}\n`);
      });
    });

  // Internal: the detached supervisor `mlw run --detach` starts; not for users.
  runs
    .command('supervise', { hidden: true })
    .argument('<run>')
    .requiredOption('--from <owner>')
    .action(async (id: string, options: { from: string }) => {
      await withRuns(async (service) => {
        if (!(await service.takeOverQueued(id, options.from))) {
          process.stdout.write(`could not take run ${id} over from ${options.from}\n`);
          throw new UserError(`runs supervise: run ${id} is not queued under ${options.from}`);
        }
        process.stdout.write('supervising\n');
        await service.finished(id);
      });
    });
}
