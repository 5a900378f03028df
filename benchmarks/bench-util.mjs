/**
 * Shared by the benchmark scripts: command-line flags, the machine's busy CPU
 * time (to report how loaded the machine was), and peak memory.
 */
import { readFileSync } from 'node:fs';

/**
 * Reads `--name value` / `--name=value` flags into a copy of `defaults`.
 * `options[name]` converts a value (`String`, `Number`, ...); `switches[name]`
 * sets fields for a flag without a value. `--help` prints `usage` and exits.
 */
export function parseFlags(argv, { defaults, options = {}, switches = {}, usage }) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : undefined;
    if (name !== undefined && name in switches && !a.includes('=')) {
      Object.assign(o, switches[name]);
    } else if (name !== undefined && name in options) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      const [key, convert] = options[name];
      o[key] = convert(v);
    } else {
      throw new Error(`unknown argument ${a} (try --help)`);
    }
  }
  return o;
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat), or undefined elsewhere. */
export function machineBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100; // USER_HZ = 100 on Linux
  } catch {
    return undefined;
  }
}

/** Peak resident set size of this process in KiB: VmHWM (Linux), else resourceUsage().maxRSS. */
export function peakRssKiB() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}
