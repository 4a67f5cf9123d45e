/**
 * package.json's contributions agree with the extension's code: every command in the registry is
 * contributed and vice versa, commands that execute anything are disabled in Restricted Mode, every
 * file the manifest points at exists, and the DAG language covers the files the activation events name.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { COMMANDS, COMMANDS_THAT_EXECUTE } from '../../../extension/src/command-ids';

const root = join(import.meta.dirname, '..', '..', '..');

const Manifest = z.object({
  main: z.string(),
  icon: z.string(),
  engines: z.object({ vscode: z.string() }),
  activationEvents: z.array(z.string()),
  capabilities: z.object({
    untrustedWorkspaces: z.object({ supported: z.literal('limited'), description: z.string().min(1) }),
  }),
  contributes: z.object({
    commands: z.array(z.object({ command: z.string(), title: z.string(), enablement: z.string().optional() })),
    languages: z.array(
      z.object({
        id: z.string(),
        filenamePatterns: z.array(z.string()),
        filenames: z.array(z.string()),
        configuration: z.string(),
      }),
    ),
    grammars: z.array(z.object({ scopeName: z.string(), path: z.string(), language: z.string().optional() })),
    yamlValidation: z.array(z.object({ fileMatch: z.array(z.string()), url: z.string() })),
    viewsContainers: z.object({
      activitybar: z.array(z.object({ id: z.string(), title: z.string(), icon: z.string() })),
    }),
    views: z.record(z.string(), z.array(z.object({ id: z.string(), name: z.string() }))),
    menus: z.record(z.string(), z.array(z.object({ command: z.string(), when: z.string().optional() }))),
  }),
});

const manifest = Manifest.parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
const contributes = manifest.contributes;

void describe('package.json contributions', () => {
  void test('every registered command is contributed, and nothing else is', () => {
    const contributed = contributes.commands.map((command) => command.command).sort();
    assert.deepEqual(contributed, Object.values(COMMANDS).sort());
  });

  void test('commands that execute anything are disabled in Restricted Mode', () => {
    for (const id of COMMANDS_THAT_EXECUTE) {
      const command = contributes.commands.find((entry) => entry.command === id);
      assert.match(
        command?.enablement ?? '',
        /\bisWorkspaceTrusted\b/,
        `${id} must have enablement: isWorkspaceTrusted`,
      );
    }
  });

  void test('every file the manifest points at exists', () => {
    const paths = [
      manifest.main.replace(/^\.\//, '').replace('dist/extension.js', 'extension/src/extension.ts'),
      manifest.icon,
      ...contributes.languages.map((language) => language.configuration),
      ...contributes.grammars.map((grammar) => grammar.path),
      ...contributes.yamlValidation.map((entry) => entry.url),
      ...contributes.viewsContainers.activitybar.map((container) => container.icon),
    ];
    for (const path of paths) assert.ok(existsSync(join(root, path)), `${path} does not exist`);
  });

  void test('the mlw-dag language, its grammar and yamlValidation cover *.dag.yaml and dag.yaml', () => {
    const language = contributes.languages.find((entry) => entry.id === 'mlw-dag');
    assert.ok(language !== undefined);
    assert.deepEqual(language.filenamePatterns, ['*.dag.yaml']);
    assert.deepEqual(language.filenames, ['dag.yaml']);
    assert.ok(contributes.grammars.some((grammar) => grammar.language === 'mlw-dag'));
    assert.deepEqual(contributes.yamlValidation[0]?.fileMatch, ['*.dag.yaml', 'dag.yaml']);
    assert.deepEqual(manifest.activationEvents.sort(), [
      'onLanguage:mlw-dag',
      'workspaceContains:**/*.dag.yaml',
      'workspaceContains:**/dag.yaml',
    ]);
  });

  void test('the grammar highlights with the YAML grammar', () => {
    const grammar = contributes.grammars.find((entry) => entry.language === 'mlw-dag');
    const text = readFileSync(join(root, grammar?.path ?? ''), 'utf8');
    const parsed = z
      .object({ scopeName: z.string(), patterns: z.array(z.object({ include: z.string() })) })
      .parse(JSON.parse(text));
    assert.equal(parsed.scopeName, grammar?.scopeName);
    assert.deepEqual(parsed.patterns, [{ include: 'source.yaml' }]);
  });

  void test('the Pipelines view lives in the MLOps activity-bar container', () => {
    const container = contributes.viewsContainers.activitybar.find((entry) => entry.title === 'MLOps');
    assert.ok(container !== undefined);
    assert.deepEqual(contributes.views[container.id]?.[0], { id: 'mlw.pipelines', name: 'Pipelines' });
  });

  void test('the Branches view lives in the MLOps container, and every menu entry names a registered command', () => {
    const container = contributes.viewsContainers.activitybar.find((entry) => entry.title === 'MLOps');
    assert.ok(container !== undefined);
    assert.ok(contributes.views[container.id]?.some((view) => view.id === 'mlw.branches' && view.name === 'Branches'));
    const registered = new Set<string>(Object.values(COMMANDS));
    for (const [menu, entries] of Object.entries(contributes.menus)) {
      for (const entry of entries)
        assert.ok(registered.has(entry.command), `${menu}: ${entry.command} is not registered`);
    }
    const context = contributes.menus['view/item/context'] ?? [];
    for (const id of [
      COMMANDS.checkoutBranch,
      COMMANDS.createBranch,
      COMMANDS.renameBranch,
      COMMANDS.deleteBranch,
      COMMANDS.mergeBranch,
    ]) {
      assert.ok(
        context.some((entry) => entry.command === id && (entry.when ?? '').includes('view == mlw.branches')),
        `${id} is not in the Branches view's context menu`,
      );
    }
  });

  void test('git operations that change the repository are disabled in Restricted Mode; listing is not', () => {
    // They run the repository's hooks, filters and core.sshCommand (the agent's write profile).
    for (const id of [COMMANDS.checkoutBranch, COMMANDS.mergeBranch, COMMANDS.fetch, COMMANDS.pull, COMMANDS.push]) {
      assert.ok(COMMANDS_THAT_EXECUTE.includes(id), `${id} must count as executing`);
    }
    assert.ok(!COMMANDS_THAT_EXECUTE.includes(COMMANDS.refreshBranches));
  });

  void test('engines.vscode stays within what code-server 4.100.3 (VS Code 1.100) runs', () => {
    assert.equal(manifest.engines.vscode, '^1.100.0');
  });
});
