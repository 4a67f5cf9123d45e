import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInstanceGraph, selectByName, withDownstream, withUpstream, type GraphNode } from '../../../agent/src/pipeline/graph';
import { PipelineError } from '../../../agent/src/pipeline/errors';

function node(name: string, fields: Partial<GraphNode> = {}): GraphNode {
  return { name, task: name.split('@')[0]!, needs: [], inputs: [], outputs: [], ...fields };
}

void describe('instance graph', () => {
  void test('needs on a task wait for every instance; needs on an instance for that one', () => {
    const graph = buildInstanceGraph(
      [
        node('train@rf'),
        node('train@gb'),
        node('select', { needs: ['train'] }),
        node('report', { needs: ['train@gb'] }),
      ],
      'x.dag.yaml',
    );
    assert.deepEqual([...graph.upstream.get('select')!.keys()].sort(), ['train@gb', 'train@rf']);
    assert.deepEqual([...graph.upstream.get('report')!.keys()], ['train@gb']);
    assert.deepEqual(graph.order, ['train@rf', 'train@gb', 'select', 'report']);
  });

  void test('data edges: an input equal to or inside an output, and an output inside an input folder', () => {
    const graph = buildInstanceGraph(
      [
        node('consume-file', { inputs: ['build/features/train.csv'] }),
        node('consume-folder', { inputs: ['build'] }),
        node('consume-same', { inputs: ['build/features'] }),
        node('unrelated', { inputs: ['build/featuresX'] }),
        node('features', { outputs: ['build/features'] }),
      ],
      'x.dag.yaml',
    );
    for (const consumer of ['consume-file', 'consume-folder', 'consume-same']) {
      assert.deepEqual(graph.upstream.get(consumer)!.get('features'), { kind: 'data', path: 'build/features' }, consumer);
    }
    assert.equal(graph.upstream.get('unrelated')!.size, 0);
    assert.equal(graph.order.at(-1), 'consume-same');
    assert.ok(graph.order.indexOf('features') < graph.order.indexOf('consume-file'));
  });

  void test('a cycle is refused and named in full, with the path data flows through', () => {
    assert.throws(
      () =>
        buildInstanceGraph(
          [node('a', { needs: ['c'] }), node('b', { needs: ['a'] }), node('c', { inputs: ['b.txt'] }), node('d', { outputs: ['b.txt'], needs: ['b'] })],
          'x.dag.yaml',
        ),
      (error: unknown) => {
        assert.ok(error instanceof PipelineError);
        assert.match(error.message, /^x\.dag\.yaml: the tasks form a cycle: /);
        const cycle = error.message.slice(error.message.indexOf(': the tasks form a cycle: ') + 26);
        const names = cycle.split(/ →(?:\([^)]*\))? /);
        assert.equal(names[0], names.at(-1), cycle);
        assert.deepEqual(new Set(names), new Set(['a', 'b', 'c', 'd']), cycle);
        assert.match(cycle, /d →\(b\.txt\) c/);
        return true;
      },
    );
  });

  void test('an unknown need names the task and the need', () => {
    assert.throws(() => buildInstanceGraph([node('a', { needs: ['nope'] })], 'x.dag.yaml'), /task a needs nope, which is not a task/);
  });

  void test('selection: upstream of --task, downstream of --from, names by task or instance', () => {
    const graph = buildInstanceGraph(
      [node('features'), node('train@rf', { needs: ['features'] }), node('train@gb', { needs: ['features'] }), node('select', { needs: ['train'] })],
      'x.dag.yaml',
    );
    assert.deepEqual([...withUpstream(graph, selectByName(graph, 'train@gb', 'x'))].sort(), ['features', 'train@gb']);
    assert.deepEqual([...withDownstream(graph, selectByName(graph, 'train', 'x'))].sort(), ['select', 'train@gb', 'train@rf']);
    assert.throws(() => selectByName(graph, 'nope', 'x.dag.yaml'), /x\.dag\.yaml has no task nope \(its tasks: features, train, select\)/);
  });
});
