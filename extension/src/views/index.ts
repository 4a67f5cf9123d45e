/**
 * The views registry: every view of the MLOps activity-bar container is created here, once, for the
 * extension's lifetime. A new view (Runs, Datasets, …) adds a factory to `VIEW_FACTORIES` and its
 * entry under `contributes.views.mlops` in package.json.
 */
import * as vscode from 'vscode';
import type { AgentClient } from '../agent/client';
import { createBranchesView, type BranchesView } from './branches';
import { createPipelinesView } from './pipelines';
import { createDatasetsView, type DatasetsView } from './datasets';
import { createEnvironmentsView, type EnvironmentsView } from './environments';
import { createRunsView, type RunsView } from './runs';

export interface View {
  /** Asks the agent again and redraws. */
  readonly refresh: () => void;
  readonly disposable: vscode.Disposable;
}

export interface Views {
  readonly pipelines: View;
  readonly branches: BranchesView;
  readonly runs: RunsView;
  readonly datasets: DatasetsView;
  readonly environments: EnvironmentsView;
}

type ViewFactories = { readonly [K in keyof Views]: (agent: AgentClient) => Views[K] };

const VIEW_FACTORIES: ViewFactories = {
  pipelines: createPipelinesView,
  branches: createBranchesView,
  runs: createRunsView,
  datasets: createDatasetsView,
  environments: createEnvironmentsView,
};

export function createViews(agent: AgentClient): { views: Views; disposable: vscode.Disposable } {
  const views = {
    pipelines: VIEW_FACTORIES.pipelines(agent),
    branches: VIEW_FACTORIES.branches(agent),
    runs: VIEW_FACTORIES.runs(agent),
    datasets: VIEW_FACTORIES.datasets(agent),
    environments: VIEW_FACTORIES.environments(agent),
  } satisfies Views;
  return { views, disposable: vscode.Disposable.from(...Object.values(views).map((view) => view.disposable)) };
}
