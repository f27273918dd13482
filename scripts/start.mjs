#!/usr/bin/env node
// `npm start [-- flags]`: the exporter, in demo mode unless a config file is given.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const configured = args.some((a) => a === '--config.file' || a.startsWith('--config.file=') || a === '--demo' || a === '--help' || a === '-h' || a === '--version');
const main = fileURLToPath(new URL('../exporter/dist/main.js', import.meta.url));
const child = spawn(process.execPath, [main, ...(configured ? [] : ['--demo']), ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
