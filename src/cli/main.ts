#!/usr/bin/env node
/**
 * The `gossamer` command. `start` runs one node in this very process (no fork: a signal sent to
 * this process reaches the node); `dev` runs a local cluster of `start` children; the rest are
 * clients of a node's HTTP API. Exit status: 0 success, 1 operational error, 2 bad usage; every
 * error is one line on stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import type { LoadedConfig, SettingKey } from './config.js';
import { ConfigError, SETTINGS, loadConfig } from './config.js';
import { CliError, usage } from './errors.js';
import type { Io } from './client-commands.js';
import { cmdDel, cmdGet, cmdPut, cmdRing, cmdStatus } from './client-commands.js';
import { cmdCommit, cmdPlan, cmdStage } from './ring-commands.js';
import { colorEnabled } from './style.js';
import { EXAMPLES, examples } from './help.js';
import { addBenchCommand } from './bench/command.js';

const VERSION = '0.1.0';

function readStdin(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      reject(usage('no value given: pass VALUE, --file F, or pipe the value on stdin'));
      return;
    }
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

const io: Io = {
  out: (s) => { process.stdout.write(s); },
  err: (s) => { process.stderr.write(s); },
  stdin: readStdin,
  stdoutIsTty: process.stdout.isTTY === true,
  colour: colorEnabled(process.stdout),
};

/**
 * A reader that stops reading (`gossamer ring --all | head`) closes the pipe: that is the end of
 * the output, not an error. On stdout it ends the command (exit 0, like `yes | head`); on stderr
 * it is ignored, so the exit status still tells what happened.
 */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream, exitOnEpipe: boolean): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (exitOnEpipe) process.exit(0);
  });
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(err.line + '\n');
    process.exit(2);
  }
  if (err instanceof CliError) {
    process.stderr.write(`gossamer: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
    process.stderr.write(`gossamer: cannot listen: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`gossamer: ${e.stack ?? String(err)}\n`);
  process.exit(1);
}

/** Runs an action; maps its failure to the exit status and one line on stderr. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      fail(e);
    }
  };
}

function addSettingOptions(cmd: Command): Map<string, SettingKey> {
  const attrs = new Map<string, SettingKey>();
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    const opt = new Option(s.arg === undefined ? `--${s.flag}` : `--${s.flag} <${s.arg}>`, `${s.describe} [${s.env}]`);
    cmd.addOption(opt);
    attrs.set(opt.attributeName(), s.key);
  }
  return attrs;
}

async function startCommand(opts: Record<string, unknown>, attrs: Map<string, SettingKey>): Promise<void> {
  const flags: Partial<Record<SettingKey | 'config', unknown>> = {};
  for (const [attr, key] of attrs) if (opts[attr] !== undefined) flags[key] = opts[attr];
  if (opts.config !== undefined) flags.config = opts.config;
  const loaded: LoadedConfig = loadConfig({ flags });
  let parentPid: number | undefined;
  if (opts.parentPid !== undefined) {
    if (!/^[1-9][0-9]*$/.test(String(opts.parentPid))) throw usage('--parent-pid must be a process id');
    parentPid = Number(opts.parentPid);
  }
  const memory = opts.memory === true;

  const { startNode } = await import('./node-main.js');
  const { DECOMMISSION_WAIT_MS_MAX } = await import('./self-management.js');
  const node = await startNode(loaded.config, { memory });

  let exiting = false;
  const shutdown = (why: string): void => {
    if (exiting) return; // a second signal (e.g. Ctrl-C reaching both dev and its children) changes nothing
    exiting = true;
    node.logger.info('shutdown requested', { reason: why });
    // A decommission hands the partitions over first (bounded by its own wait).
    const hardStopMs = loaded.config.requestTimeoutMs + 10_000 + (loaded.config.decommissionOnStop ? DECOMMISSION_WAIT_MS_MAX : 0);
    setTimeout(() => {
      node.logger.error('graceful shutdown took too long; exiting', { afterMs: hardStopMs });
      process.exit(1);
    }, hardStopMs).unref();
    node.stop().then(() => process.exit(0), (e: unknown) => {
      node.logger.error('shutdown failed', { error: String(e) });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (parentPid !== undefined) {
    // Started by `gossamer dev`: stop when the parent is gone, even if it was SIGKILLed.
    const pid = parentPid;
    setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') shutdown('parent process exited');
      }
    }, 500).unref();
  }
  // Keep the process alive until a signal arrives (the servers hold the loop open anyway).
}

const hostOpt = (): Option => new Option('--host <host:port>', 'the node to talk to (HTTP address, no scheme)').default('127.0.0.1:8000');
const timeoutOpt = (): Option => new Option('--timeout <ms>', 'request timeout in milliseconds (sent to the node)');

/** `status`, `ring`, `bench`: the operator's commands. */
function addOperatorCommands(program: Command): void {
  program.command('status').description('members, their state, load and ownership (exit 1 when the node does not serve)')
    .option('--json', 'print JSON')
    .addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (opts: Record<string, string | boolean | undefined>) => cmdStatus(opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.status);

  program.command('ring').description('the ring: ownership per node; --key K for one key\'s replicas')
    .option('--key <key>', 'show the partition and replicas of one key')
    .option('--all', 'list every partition')
    .option('--json', 'print JSON')
    .addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (opts: Record<string, string | boolean | undefined>) => cmdRing(opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.ring);

  program.command('repair').description('anti-entropy for the node --host names, now; returns when done (progress bar, summary)')
    .option('--partition <p>', 'repair one partition only')
    .option('--json', 'print the summary as JSON')
    .addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (opts: Record<string, string | boolean | undefined>) => {
      const { cmdRepair } = await import('./repair-command.js');
      await cmdRepair(opts as Parameters<typeof cmdRepair>[0], io, process.stderr);
    }));
  examples(program.commands.at(-1)!, EXAMPLES.repair);

  addBenchCommand(program, action);
  examples(program.commands.at(-1)!, EXAMPLES.bench);
  addRingCommands(program);
}

type Opts = Record<string, string | boolean | undefined>;

/** `join`, `leave`, `removenode`, `plan`, `commit`, `clear`: changing the ring (src/cli/ring-commands.ts). */
function addRingCommands(program: Command): void {
  const stage = (name: 'join' | 'leave' | 'clear', description: string): void => {
    program.command(name).description(description).option('--json', 'print JSON').addOption(hostOpt()).addOption(timeoutOpt())
      .action(action(async (opts: Opts) => cmdStage(name, undefined, opts, io)));
    examples(program.commands.at(-1)!, EXAMPLES[name]);
  };
  stage('join', 'stage the claim of the node --host names (a member without partitions); applied at commit');
  stage('leave', 'stage the departure of the node --host names (it hands its partitions over, then leaves); applied at commit');
  program.command('removenode').description('stage the removal of another (typically dead) node; its partitions are rebuilt elsewhere at commit')
    .argument('<id>', 'the node id to remove').option('--json', 'print JSON').addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (id: string, opts: Opts) => cmdStage('remove', id, opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.removenode);
  program.command('plan').description('what the staged changes would move: partitions, bytes (estimated), ownership before and after')
    .option('--json', 'print JSON').addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (opts: Opts) => cmdPlan(opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.plan);
  program.command('commit').description('apply the staged changes; --wait: follow the transition to its end (progress bar)')
    .option('--wait', 'wait until every moving partition has its data and the new ring is in force')
    .option('--json', 'print JSON').addOption(hostOpt()).addOption(timeoutOpt())
    .addOption(new Option('--poll-ms <ms>', 'how often --wait asks for progress').hideHelp())
    .action(action(async (opts: Opts) => cmdCommit(opts, io, process.stderr)));
  examples(program.commands.at(-1)!, EXAMPLES.commit);
  stage('clear', 'unstage every staged change');
}

export function buildProgram(): Command {
  const program = new Command('gossamer')
    .description('Gossamer: a Dynamo-style distributed key-value store')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`gossamer: ${s.replace(/^error: /, '')}`),
    });

  const start = program.command('start').description('run one node in the foreground, in this process')
    .option('--config <file>', 'config file, JSON or YAML by extension [GOSSAMER_CONFIG]');
  const attrs = addSettingOptions(start);
  start.addOption(new Option('--parent-pid <pid>', 'stop when this process exits (used by dev)').hideHelp());
  start.addOption(new Option('--memory', 'keep data in memory only (tests)').hideHelp());
  start.action(action(async (opts: Record<string, unknown>) => startCommand(opts, attrs)));
  examples(start, EXAMPLES.start);

  program.command('dev').description('run a local cluster, one process per node (what npm start does)')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--data <dir>', 'data root; node i keeps its data in <dir>/node-i [GOSSAMER_DEV_DATA] (default data/dev)')
    .option('--listen-port <p>', 'inter-node port of node 0; node i uses p+i [GOSSAMER_DEV_LISTEN_PORT] (default 7000)')
    .option('--http-port <p>', 'HTTP port of node 0; node i uses p+i [GOSSAMER_DEV_HTTP_PORT] (default 8000)')
    .option('--resp-port <p>', 'RESP port of node 0; node i uses p+i [GOSSAMER_DEV_RESP_PORT] (default 6380)')
    .option('--n <n>', 'replicas per key (for a new cluster)')
    .option('--partitions <q>', 'partitions (for a new cluster)')
    .option('--commitlog-sync <mode>', 'group, periodic or none')
    .option('--log-level <level>', 'debug, info, warn, error or silent')
    .option('--secure', 'TLS on every listener, a cluster secret and an admin token, generated (docs/security.md)')
    .option('--autoscale <min..max>', 'grow and shrink the cluster with its load, between MIN and MAX nodes (docs/autoscale.md)')
    .option('--autoscale-config <file>', 'JSON overrides of the autoscale thresholds and timings')
    .option('--autoscale-metrics-port <p>', 'port of the autoscaler\'s own /metrics, desired vs actual nodes (default: HTTP port + 32; 0: off)')
    .addOption(new Option('--autoscale-interval-ms <ms>', 'how often the autoscale policy runs (default 5000)').hideHelp())
    .addOption(new Option('--ready-timeout-ms <ms>', 'how long to wait for the nodes to serve').default('60000').hideHelp())
    .action(action(async (opts: Record<string, string | undefined>) => {
      const { runDev } = await import('./dev.js');
      const code = await runDev(opts, { out: (s) => { process.stdout.write(s); }, err: (s) => { process.stderr.write(s); } });
      process.exit(code);
    }));
  examples(program.commands.at(-1)!, EXAMPLES.dev);

  program.command('get').description('read a key (siblings are printed with the context that resolves them)')
    .argument('<key>')
    .option('--r <r>', 'replies needed: 1..N, one, quorum, all')
    .option('--quorum <mode>', 'sloppy (default) or strict')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'also print the content type and the context (on stderr)')
    .addOption(hostOpt()).addOption(timeoutOpt())
    .action(action(async (key: string, opts: Record<string, string | boolean | undefined>) => cmdGet(key, opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.get);

  const putLike = (cmd: Command): Command => cmd
    .option('--w <w>', 'acknowledgements needed: 1..N, one, quorum, all')
    .option('--quorum <mode>', 'sloppy (default) or strict')
    .option('--context <token>', 'the context from a get: supersede exactly what it saw (default: read the key\'s context first)')
    .option('--blind', 'do not read the context first: the write supersedes nothing')
    .option('-v, --verbose', 'print the new context (on stderr)')
    .addOption(hostOpt()).addOption(timeoutOpt());

  putLike(program.command('put').description('write a key: VALUE, --file F, or stdin')
    .argument('<key>').argument('[value]')
    .option('--file <file>', 'read the value from a file (- for stdin)')
    .option('--content-type <type>', 'Content-Type kept with the value'))
    .action(action(async (key: string, value: string | undefined, opts: Record<string, string | undefined>) => cmdPut(key, value, opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.put);

  putLike(program.command('del').alias('delete').description('delete a key (writes a tombstone)').argument('<key>'))
    .action(action(async (key: string, opts: Record<string, string | undefined>) => cmdDel(key, opts, io)));
  examples(program.commands.at(-1)!, EXAMPLES.del);

  addOperatorCommands(program);
  program.addHelpText('after', `\nRun "gossamer <command> --help" for a command's options and examples.`);
  return program;
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnEpipe(process.stdout, true);
  exitQuietlyOnEpipe(process.stderr, false);
  const program = buildProgram();
  if (argv.length <= 2) {
    // No command is bad usage (as git and nodetool have it): help on stderr, exit 2.
    program.outputHelp({ error: true });
    process.exit(2);
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; everything else commander refuses is bad usage.
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      process.exit(ok ? 0 : 2);
    }
    fail(e);
  }
}

void main(process.argv);
