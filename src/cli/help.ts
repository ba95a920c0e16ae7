/** The examples every command's `--help` ends with. */
import type { Command } from 'commander';

export const EXAMPLES = {
  start: [
    'gossamer start --node-id a --listen 10.0.0.1:7000 --http 0.0.0.0:8000 --seeds 10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000',
    'gossamer start --config /etc/gossamer.yaml --log-level debug',
  ],
  dev: ['gossamer dev', 'gossamer dev --nodes 5 --data /tmp/gossamer', 'gossamer dev --autoscale 3..6   # grow and shrink with the load'],
  get: ['gossamer get greeting', 'gossamer get cart --r all --json', 'gossamer get cart -v --host 127.0.0.1:8001'],
  put: ['gossamer put greeting hello', 'gossamer put photo --file cat.jpg --content-type image/jpeg', 'echo 42 | gossamer put answer --w all'],
  del: ['gossamer del greeting', 'gossamer del cart --context AQIGbm9kZS0w...'],
  status: ['gossamer status', 'gossamer status --host 127.0.0.1:8001 --json', 'until gossamer status >/dev/null; do sleep 1; done   # wait until the node serves'],
  ring: ['gossamer ring', 'gossamer ring --key greeting', 'gossamer ring --all | head', 'gossamer ring --json | jq .partitions[0]'],
  join: ['gossamer join --host 127.0.0.1:8003   # the new node, started with --seeds of the cluster', 'gossamer join --host 127.0.0.1:8003 && gossamer plan && gossamer commit --wait'],
  leave: ['gossamer leave --host 127.0.0.1:8002', 'gossamer leave --host 127.0.0.1:8002 && gossamer commit --wait'],
  removenode: ['gossamer removenode node-3   # a dead node: the others rebuild its replicas', 'gossamer removenode node-3 --host 127.0.0.1:8001'],
  plan: ['gossamer plan', 'gossamer plan --json | jq .plan.ownerChanges[0]'],
  commit: ['gossamer commit', 'gossamer commit --wait'],
  clear: ['gossamer clear'],
  repair: ['gossamer repair', 'gossamer repair --partition 17 --host 127.0.0.1:8001', 'gossamer repair --json'],
  bench: [
    'gossamer bench --workload a',
    'gossamer bench --workload b --records 10000 --operations 100000 --clients 32',
    'gossamer bench --workload f --target 2000 --json > f.json',
    'gossamer bench --workload c --transport resp --host 127.0.0.1:6380   # once the RESP front end serves',
  ],
} as const;

export function examples(cmd: Command, lines: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}
