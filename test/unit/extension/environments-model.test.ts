/**
 * The Environments view's vscode-free logic: grouping by kind (Docker images, conda, venv always;
 * Local only when used), a build under way shown as building, the actions each state offers (the
 * context value the package.json menus match), descriptions and tooltips, and the terminal opened
 * inside a ready environment.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentInfo } from '../../../schemas/protocol/env';
import {
  contextValue,
  environmentDescription,
  environmentTooltip,
  groupEnvironments,
  stateIcon,
  terminalSpec,
} from '../../../extension/src/views/environments-model';

function env(overrides: Partial<EnvironmentInfo> & Pick<EnvironmentInfo, 'name' | 'kind'>): EnvironmentInfo {
  return {
    state: 'missing',
    origin: 'dag',
    file: 'p.dag.yaml',
    line: 4,
    specFile: null,
    digest: null,
    image: null,
    imageId: null,
    path: null,
    detail: null,
    ...overrides,
  };
}

const trainer = env({
  name: 'trainer',
  kind: 'docker',
  state: 'ready',
  digest: 'abcdef123456',
  image: 'mlw-env/trainer:abcdef123456',
  imageId: 'sha256:0123456789abcdef',
});
const base = env({ name: 'base', kind: 'docker', state: 'ready', image: 'python:3.11' });
const py = env({
  name: 'py',
  kind: 'venv',
  state: 'stale',
  digest: '111111111111',
  path: '/ws/.mlw/venvs/py-000000000000',
  detail: 'requirements.txt changed since the venv was built',
});

void describe('environments model', () => {
  void test('groups by kind, sorted by name; Local only when used; a build under way shows as building', () => {
    const groups = groupEnvironments([trainer, py, base], new Set(['py']));
    assert.deepEqual(
      groups.map((group) => [group.label, group.environments.map((info) => `${info.name}:${info.state}`)]),
      [
        ['Docker images', ['base:ready', 'trainer:ready']],
        ['conda', []],
        ['venv', ['py:building']],
      ],
    );
    const withLocal = groupEnvironments([env({ name: 'host', kind: 'local', state: 'ready' })]);
    assert.deepEqual(
      withLocal.map((group) => group.label),
      ['Docker images', 'conda', 'venv', 'Local'],
    );
  });

  void test('actions by state: build when missing or stale, rebuild/terminal when ready, remove when built; none for an image used as is', () => {
    assert.equal(contextValue(trainer), 'mlw.env;rebuild;remove;terminal;');
    assert.equal(contextValue(py), 'mlw.env;build;remove;containerize;');
    assert.equal(
      contextValue(env({ name: 'c', kind: 'conda', state: 'missing', digest: 'x' })),
      'mlw.env;build;containerize;',
    );
    assert.equal(contextValue(base), 'mlw.env;terminal;');
    assert.equal(contextValue(env({ name: 'b', kind: 'docker', state: 'building', digest: 'x' })), 'mlw.env;');
    assert.equal(contextValue(env({ name: 'host', kind: 'local', state: 'ready' })), 'mlw.env;');
  });

  void test("package.json's menus match the flags contextValue gives", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      contributes: { menus: Record<string, { command: string; when?: string }[]> };
    };
    const items = manifest.contributes.menus['view/item/context']!.filter((entry) =>
      entry.when?.includes('view == mlw.environments'),
    );
    const flagOf = (entry: { when?: string }) => /viewItem =~ \/;(\w+);\//.exec(entry.when ?? '')?.[1];
    const flags = new Set(items.map(flagOf));
    assert.deepEqual([...flags].sort(), ['build', 'containerize', 'rebuild', 'remove', 'terminal']);
    for (const entry of items) {
      const matching = [trainer, py, base].filter((info) => contextValue(info).includes(`;${flagOf(entry)!};`));
      assert.ok(matching.length > 0, `${entry.command} (${flagOf(entry)!}) is offered on some item`);
    }
  });

  void test('description and tooltip say the state, image or digest, and why it is stale', () => {
    assert.equal(environmentDescription(trainer), 'ready · mlw-env/trainer:abcdef123456');
    assert.equal(environmentDescription(py), 'stale · 111111111111');
    assert.equal(environmentDescription(env({ name: 'host', kind: 'local', state: 'ready' })), 'ready');
    const tooltip = environmentTooltip(py, '/ws');
    assert.match(tooltip, /^py \(venv\): stale\ndefined in p\.dag\.yaml:4\n/);
    assert.match(tooltip, /path \.mlw\/venvs\/py-000000000000/);
    assert.match(tooltip, /requirements\.txt changed since the venv was built$/);
    assert.match(environmentTooltip(trainer), /image mlw-env\/trainer:abcdef123456 \(0123456789ab\)/);
    assert.equal(stateIcon('stale').id, 'history');
  });

  void test('a terminal inside a ready environment: a container of the image, or the venv on PATH; none when not ready', () => {
    const docker = terminalSpec(trainer, '/ws', '/usr/bin', 'linux')!;
    assert.equal(docker.shellPath, 'docker');
    assert.deepEqual(docker.shellArgs, [
      'run',
      '--rm',
      '-it',
      '-v',
      '/ws:/workspace',
      '-w',
      '/workspace',
      'mlw-env/trainer:abcdef123456',
      'sh',
    ]);
    const venv = terminalSpec({ ...py, state: 'ready' }, '/ws', '/usr/bin', 'linux')!;
    assert.deepEqual(venv.env, {
      VIRTUAL_ENV: '/ws/.mlw/venvs/py-000000000000',
      PATH: '/ws/.mlw/venvs/py-000000000000/bin:/usr/bin',
    });
    assert.equal(venv.shellPath, undefined);
    assert.equal(terminalSpec(py, '/ws', '/usr/bin'), undefined);
  });
});
