/** Markdown summaries of what a DAG file defines, shown by hover and completion. */
import type { DagModel, EnvironmentDef, MatrixAxis, ParamDef, TaskDef } from '../model';

const MAX_LISTED = 12;

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((name) => `\`${name}\``);
  return names.length > MAX_LISTED ? `${shown.join(', ')} and ${names.length - MAX_LISTED} more` : shown.join(', ');
}

function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text}\n${ticks}`;
}

export function describeTask(task: TaskDef): string {
  const parts = [`**task** \`${task.name}\``];
  if (task.description) parts.push(task.description);
  if (task.run) parts.push(fence(task.run.text, 'sh'));
  const details: string[] = [];
  if (task.needs.length > 0) details.push(`needs ${listed(task.needs.map((need) => need.name))}`);
  if (task.environment) details.push(`runs in \`${task.environment.name}\``);
  if (task.instances.length > 1) details.push(`expands to ${listed(task.instances.map((instance) => instance.name))}`);
  if (details.length > 0) parts.push(details.map((detail) => `- ${detail}`).join('\n'));
  return parts.join('\n\n');
}

export function describeEnvironment(environment: EnvironmentDef): string {
  const kind = environment.kinds.length > 0 ? ` (${environment.kinds.join(', ')})` : '';
  const parts = [`**environment** \`${environment.name}\`${kind}`];
  if (environment.description) parts.push(environment.description);
  return parts.join('\n\n');
}

export function describeParam(model: DagModel, param: ParamDef): string {
  const users = [...model.tasks.values()].filter((task) =>
    task.templates.some((ref) => ref.kind === 'params' && ref.name === param.name),
  );
  const use = users.length > 0 ? `used by ${listed(users.map((task) => task.name))}` : 'used by no task';
  return `**param** \`${param.name}\` = \`${param.text}\`\n\n${use}; override one run with \`mlw run -p ${param.name}=VALUE\``;
}

export function describeAxis(task: TaskDef, axis: MatrixAxis): string {
  return `**matrix axis** \`${axis.name}\` of \`${task.name}\`: ${listed(axis.values.map((value) => value.text))}`;
}
