// Summaries of V8 CPU profiles (node --cpu-prof) for bench/export.ts: where a Slipway
// process spent its time, by category (Node's bootstrap and internals, each npm package,
// each folder of Slipway's dist/, V8's garbage collector and compiler, idle = waiting on
// I/O) and by function (self time).
import { readFile } from 'node:fs/promises';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileSummary {
  /** Profile length (µs from the profiler's start to its end), in ms. */
  totalMs: number;
  /** Self time by category, ms, largest first. */
  byCategory: [string, number][];
  /**
   * Time by what the process was doing, from each sample's whole stack: waiting on I/O
   * (idle), loading modules (any frame of Node's module loader: compiling and running
   * module bodies), child processes run synchronously (spawnSync/execFileSync: the
   * event loop is blocked), garbage collection, HTTP (node:http's frames), other JS.
   */
  byActivity: [string, number][];
  /** Functions with the most self time. */
  top: { name: string; where: string; selfMs: number }[];
}

/** What a script URL belongs to: `node`, an npm package, `dist/<folder>`, or V8's own pseudo-frames. */
export function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return '(idle: waiting on I/O)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: V8 outside JS, e.g. compiling)';
    if (functionName === '(root)') return '(root)';
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) return 'node: internals';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const dist = /\/dist\/(?:([^/]+)\/)?/.exec(url);
  if (dist) return `slipway dist/${dist[1] ?? ''}`;
  return url.replace(/^file:\/\//, '');
}

export async function summarizeProfile(file: string, topN = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const activities = new Map<number, string>();
  const activityOf = (id: number): string => {
    let found = activities.get(id);
    if (found) return found;
    const leaf = nodes.get(id)!.callFrame;
    if (leaf.functionName === '(idle)') found = 'idle (waiting on I/O)';
    else if (leaf.functionName === '(garbage collector)') found = 'garbage collector';
    else {
      let sync = false;
      let loading = false;
      let http = false;
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const { functionName, url } = nodes.get(at)!.callFrame;
        if (functionName === 'spawnSync' || functionName === 'execFileSync' || functionName === 'execSync') sync = true;
        if (url.startsWith('node:internal/modules/')) loading = true;
        if (/^node:_http_|^node:https$|^node:internal\/http/.test(url)) http = true;
      }
      found = sync ? 'child processes run synchronously' : loading ? 'loading modules' : http ? 'HTTP (node:http)'
        : leaf.functionName === '(program)' ? 'V8 outside JS (program)' : 'other JS and native';
    }
    activities.set(id, found);
    return found;
  };
  const self = new Map<number, number>();
  // Sample i lasted until sample i+1: timeDeltas[i + 1] (µs); the last one until endTime.
  let last = profile.startTime;
  for (const d of profile.timeDeltas) last += d;
  for (let i = 0; i < profile.samples.length; i++) {
    const duration = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : Math.max(0, profile.endTime - last);
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + duration);
  }
  const byCategory = new Map<string, number>();
  const byActivity = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  for (const [id, us] of self) {
    const frame = nodes.get(id)!.callFrame;
    const cat = category(frame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us / 1000);
    const activity = activityOf(id);
    byActivity.set(activity, (byActivity.get(activity) ?? 0) + us / 1000);
    const where = frame.url ? `${frame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', where, selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    byCategory: [...byCategory].sort((a, b) => b[1] - a[1]),
    byActivity: [...byActivity].sort((a, b) => b[1] - a[1]),
    top: [...byFunction.values()].filter((f) => !f.name.startsWith('(')).sort((a, b) => b.selfMs - a.selfMs).slice(0, topN),
  };
}
