/**
 * Every command the extension contributes, by id. Kept free of `vscode` so a unit test can check
 * package.json against it (each id contributed, each command that executes anything gated on trust).
 */
export const COMMANDS = {
  restartAgent: 'mlw.restartAgent',
  showAgentLog: 'mlw.showAgentLog',
  refreshPipelines: 'mlw.pipelines.refresh',
  refreshBranches: 'mlw.branches.refresh',
  checkoutBranch: 'mlw.branches.checkout',
  createBranch: 'mlw.branches.create',
  renameBranch: 'mlw.branches.rename',
  deleteBranch: 'mlw.branches.delete',
  mergeBranch: 'mlw.branches.merge',
  abortMerge: 'mlw.branches.abortMerge',
  fetch: 'mlw.branches.fetch',
  pull: 'mlw.branches.pull',
  pullRebase: 'mlw.branches.pullRebase',
  push: 'mlw.branches.push',
  refreshRuns: 'mlw.runs.refresh',
  startRun: 'mlw.runs.start',
  cancelRun: 'mlw.runs.cancel',
  rerunRun: 'mlw.runs.rerun',
  deleteRun: 'mlw.runs.delete',
  openRunLog: 'mlw.runs.openLog',
  compareRuns: 'mlw.runs.compare',
  showRunMetrics: 'mlw.runs.showMetrics',
  pushResults: 'mlw.runs.push',
  pullResults: 'mlw.runs.pull',
  refreshDatasets: 'mlw.datasets.refresh',
  addDataset: 'mlw.datasets.add',
  checkoutDataset: 'mlw.datasets.checkout',
  checkoutDatasetVersion: 'mlw.datasets.checkoutVersion',
  diffDatasetVersion: 'mlw.datasets.diffVersion',
  pushDataset: 'mlw.datasets.push',
  pullDataset: 'mlw.datasets.pull',
  promoteModel: 'mlw.runs.promoteModel',
  reproduceRun: 'mlw.runs.reproduce',
  runPipeline: 'mlw.pipeline.run',
  runPipelineTask: 'mlw.pipeline.runTask',
  runPipelineFrom: 'mlw.pipeline.runFrom',
  explainPipeline: 'mlw.pipeline.explain',
  showPipelineGraph: 'mlw.pipeline.showGraph',
  refreshEnvironments: 'mlw.environments.refresh',
  buildEnvironment: 'mlw.environments.build',
  rebuildEnvironment: 'mlw.environments.rebuild',
  removeEnvironment: 'mlw.environments.remove',
  openEnvironmentTerminal: 'mlw.environments.openTerminal',
  containerizeEnvironment: 'mlw.environments.containerize',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/**
 * Commands that execute user code (runs, pipelines). In Restricted Mode they are disabled
 * (`enablement: isWorkspaceTrusted` in package.json) and refuse to run even if invoked.
 * Validation and browsing (listing branches included: the agent's read-only git profile) execute
 * nothing. Git operations that change the repository run git as the user's terminal would (the
 * agent's write profile): the repository's hooks (post-checkout, post-merge, reference-transaction,
 * pre-push), its filters and its core.sshCommand — code an untrusted repository chooses — so they
 * count as executing.
 */
export const COMMANDS_THAT_EXECUTE: readonly CommandId[] = [
  COMMANDS.checkoutBranch,
  COMMANDS.createBranch,
  COMMANDS.renameBranch,
  COMMANDS.deleteBranch,
  COMMANDS.mergeBranch,
  COMMANDS.abortMerge,
  COMMANDS.fetch,
  COMMANDS.pull,
  COMMANDS.pullRebase,
  COMMANDS.push,
  // Runs execute the task's command; push and pull of run records run git like the branch commands.
  COMMANDS.startRun,
  COMMANDS.rerunRun,
  COMMANDS.pushResults,
  COMMANDS.pullResults,
  // Promoting writes git refs, which runs the repository's reference-transaction hook.
  COMMANDS.promoteModel,
  // Reproducing checks out the run's commit in a worktree and runs its task there.
  COMMANDS.reproduceRun,
  // A DAG run runs its tasks' commands.
  COMMANDS.runPipeline,
  COMMANDS.runPipelineTask,
  COMMANDS.runPipelineFrom,
  // Data transfers read remote credentials as DVC does: an AWS profile's credential_process runs a command.
  COMMANDS.pushDataset,
  COMMANDS.pullDataset,
  // Building runs the Dockerfile's RUN steps or pip/conda installs (setup scripts); a terminal runs a
  // shell in the environment; conda's remove runs packages' unlink scripts.
  COMMANDS.buildEnvironment,
  COMMANDS.rebuildEnvironment,
  COMMANDS.removeEnvironment,
  COMMANDS.openEnvironmentTerminal,
];
