#!/usr/bin/env node
'use strict';
// A stand-in for the QScanner CLI: same command line, same exit codes, same output files, with
// findings chosen by keywords in the target name (see index.ts for the table).
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');

const VERSION = '4.6.0-fake';
const SCENARIOS = require('./scenarios.json');
const KEYWORDS = ['slow', 'spill', 'leaky', 'broken', 'garbled', 'uploadfail', 'notready', 'policywait', 'deny', 'audit', 'nosca', 'distroless', 'clean', 'vuln'];
const COMMANDS = ['image', 'lambda', 'repo', 'rootfs', 'container'];
// `--pod` is the documented way to pick a platform; `--gateway-url` stands for the URL option of private
// platforms (its real name depends on the QScanner release). Anything else is refused, as the CLI does.
const VALUE_FLAGS = ['pod', 'gateway-url', 'access-token', 'mode', 'scan-types', 'format', 'report-format', 'output-dir', 'cache-dir', 'scan-timeout', 'log-level', 'policy-tags'];
const MODES = ['inventory-only', 'scan-only', 'get-report', 'evaluate-policy'];
const SCAN_TYPES = ['pkg', 'secret', 'os', 'sca', 'malware', 'compliance'];
const FORMATS = ['json', 'spdx', 'cyclonedx'];
const REPORT_FORMATS = ['table', 'json', 'sarif'];
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
const PODS = ['US1', 'US2', 'US3', 'US4', 'EU1', 'EU2', 'EU3', 'CA1', 'IN1', 'AE1', 'UK1', 'AU1', 'KSA1'];

function fail(code, message) {
  process.stderr.write(`qscanner: ${message}\n`);
  process.exit(code);
}

function usage(message) {
  fail(2, `${message}\nUsage: qscanner <image|lambda|repo|rootfs|container> <target> [flags]`);
}

function parseArgs(argv) {
  const flags = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (name === 'version' || name === 'help') {
      flags[name] = true;
      continue;
    }
    if (!VALUE_FLAGS.includes(name)) usage(`unknown flag --${name}`);
    let value;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '' || value.startsWith('--')) usage(`flag --${name} needs a value`);
    if (flags[name] !== undefined) usage(`flag --${name} given twice`);
    flags[name] = value;
  }
  return { flags, positionals };
}

function checkList(name, value, allowed) {
  if (value === undefined) return [];
  const items = value.split(',').map((s) => s.trim());
  for (const item of items) {
    if (!allowed.includes(item)) usage(`invalid --${name} value "${item}" (allowed: ${allowed.join(', ')})`);
  }
  return items;
}

function scenarioOf(target) {
  const lower = target.toLowerCase();
  return KEYWORDS.find((k) => lower.includes(k)) || 'vuln';
}

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function logInvocation(extra) {
  const logFile = process.env.FAKE_QSCANNER_LOG;
  if (!logFile) return;
  const token = process.env.QUALYS_ACCESS_TOKEN || '';
  const entry = {
    argv: process.argv.slice(2),
    pid: process.pid,
    // The token itself never goes to the log: a hash lets tests check which token arrived.
    tokenSha256: token ? sha256(token) : null,
    envKeys: Object.keys(process.env).filter((k) => /^(QSCANNER_|AWS_|QUALYS_|FAKE_)/.test(k)).sort(),
    ...extra,
  };
  fs.appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
}

const LEVEL_OF = { 5: 'error', 4: 'error', 3: 'warning', 2: 'note', 1: 'note' };

function sarif(findings, secrets) {
  const rules = [];
  const results = [];
  for (const f of findings) {
    const ruleProps = { cves: f.cves, category: 'vulnerability' };
    if (f.severitySource === 'rule') ruleProps.severity = f.severity;
    rules.push({ id: f.qid, name: `QID${f.qid}`, shortDescription: { text: f.title }, properties: ruleProps });
    const props = { package: f.package, installedVersion: f.version, cves: f.cves };
    if (f.fixed) props.fixedVersion = f.fixed;
    if (f.cvss3 !== undefined) props.cvss3 = f.cvss3;
    if (f.severitySource === 'result') props.severity = f.severity;
    const result = { ruleId: f.qid, message: { text: `${f.package} ${f.version}: ${f.title}` }, properties: props };
    // level is only informative when severity is carried elsewhere; for "level" it is the only source.
    result.level = f.severitySource === 'level' ? LEVEL_OF[f.severity] : 'warning';
    results.push(result);
  }
  for (const s of secrets) {
    rules.push({ id: `secret/${s.id}`, shortDescription: { text: s.title }, properties: { category: 'secret', severity: s.severity } });
    // File names may hold ':' themselves: the line number is after the last one.
    const cut = s.location.lastIndexOf(':');
    const file = s.location.slice(0, cut);
    const line = s.location.slice(cut + 1);
    results.push({
      ruleId: `secret/${s.id}`,
      level: 'error',
      message: { text: `${s.title} found` },
      locations: [{ physicalLocation: { artifactLocation: { uri: file }, region: { startLine: Number(line) } } }],
      properties: { category: 'secret' },
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'QScanner', version: VERSION, informationUri: 'https://www.qualys.com', rules } }, results }],
  };
}

// ---- `repo <dir>`: findings come from the tree itself (extracted artifacts), not from keywords.
const REPO_MAX_FILES = 50000;
const SECRET_SCAN_MAX_BYTES = 5 * 1024 * 1024;

function walk(root) {
  const files = [];
  const stack = [''];
  while (stack.length > 0 && files.length < REPO_MAX_FILES) {
    const relative = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      // Links are never followed (the extractor creates none; a real tree might).
      if (entry.isDirectory()) stack.push(child);
      else if (entry.isFile()) files.push(child);
    }
  }
  return files.sort();
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Packages declared in the tree: [{ ecosystem, name, version, file }]. */
function packagesIn(root, files) {
  const found = [];
  for (const relative of files) {
    const base = relative.split('/').pop();
    const full = path.join(root, relative);
    if (base === 'package-lock.json') {
      let lock;
      try {
        lock = JSON.parse(readText(full));
      } catch {
        continue;
      }
      for (const [key, value] of Object.entries((lock && lock.packages) || {})) {
        if (!key || !value || typeof value.version !== 'string') continue;
        found.push({ ecosystem: 'npm', name: key.split('node_modules/').pop(), version: value.version, file: relative });
      }
      for (const [name, value] of Object.entries((lock && lock.dependencies) || {})) {
        if (value && typeof value.version === 'string') found.push({ ecosystem: 'npm', name, version: value.version, file: relative });
      }
    } else if (/^requirements.*\.txt$/.test(base)) {
      for (const line of readText(full).split(/\r?\n/)) {
        const match = /^\s*([A-Za-z0-9_.-]+)\s*==\s*([A-Za-z0-9_.+!-]+)/.exec(line);
        if (match) found.push({ ecosystem: 'pypi', name: match[1].toLowerCase(), version: match[2], file: relative });
      }
    } else if (base === 'pom.properties') {
      const props = {};
      for (const line of readText(full).split(/\r?\n/)) {
        const match = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(line);
        if (match) props[match[1]] = match[2];
      }
      if (props.groupId && props.artifactId && props.version) found.push({ ecosystem: 'maven', name: `${props.groupId}:${props.artifactId}`, version: props.version, file: relative });
    }
  }
  return found;
}

/** Secrets by type, file and line. The matched text is never kept, printed or written. */
function secretsIn(root, files) {
  const patterns = SCENARIOS.secretPatterns.map((p) => ({ ...p, regex: new RegExp(p.pattern) }));
  const found = [];
  for (const relative of files) {
    const full = path.join(root, relative);
    let size = 0;
    try {
      size = fs.statSync(full).size;
    } catch {
      continue;
    }
    if (size > SECRET_SCAN_MAX_BYTES) continue;
    const lines = readText(full).split(/\r?\n/);
    lines.forEach((line, index) => {
      for (const p of patterns) if (p.regex.test(line)) found.push({ id: p.id, title: p.title, severity: p.severity, location: `${relative}:${index + 1}` });
    });
  }
  return found;
}

function repoFindings(root) {
  const files = walk(root);
  const seen = new Set();
  const findings = [];
  for (const pkg of packagesIn(root, files)) {
    const known = SCENARIOS.packages.find((k) => k.ecosystem === pkg.ecosystem && k.name === pkg.name && k.version === pkg.version);
    if (!known || seen.has(`${known.qid}@${pkg.name}@${pkg.version}`)) continue;
    seen.add(`${known.qid}@${pkg.name}@${pkg.version}`);
    findings.push({ qid: known.qid, title: known.title, cves: known.cves, package: pkg.name, version: pkg.version, fixed: known.fixed, severity: known.severity, cvss3: known.cvss3, severitySource: 'result' });
  }
  return { files: files.length, findings, secrets: secretsIn(root, files) };
}

function writeRepoReports(outputDir, root, started, reportFormats) {
  const { files, findings, secrets } = repoFindings(root);
  const scanResult = {
    SchemaVersion: 2,
    ScannerVersion: VERSION,
    ArtifactName: root,
    ArtifactType: 'repository',
    Metadata: { TargetMetadata: { Type: 'repo', Name: root }, ScanStartTime: started.toISOString(), ScanEndTime: new Date().toISOString() },
    Summary: { FileCount: files, VulnerabilityCount: findings.length, SecretCount: secrets.length },
  };
  fs.writeFileSync(path.join(outputDir, 'repo-ScanResult.json'), JSON.stringify(scanResult, null, 2));
  if (reportFormats.includes('sarif')) fs.writeFileSync(path.join(outputDir, 'repo-Report.sarif.json'), JSON.stringify(sarif(findings, secrets), null, 2));
  if (reportFormats.includes('json')) fs.writeFileSync(path.join(outputDir, 'repo-Report.json'), JSON.stringify({ target: root, vulnerabilities: findings.map((f) => f.qid) }));
  return { files, findings: findings.length, secrets: secrets.length };
}

function writeReports(outputDir, command, target, scenario, started, reportFormats) {
  const prefix = target.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  const findings = SCENARIOS.findings[scenario === 'distroless' ? 'distroless' : scenario === 'clean' ? 'clean' : 'vuln'];
  const secrets = SCENARIOS.secrets[scenario === 'distroless' ? 'distroless' : scenario === 'clean' ? 'clean' : 'vuln'];
  const digest = `sha256:${sha256(target)}`;
  const targetMetadata = { Type: command, Name: target };
  if (command === 'lambda') {
    targetMetadata.FunctionArn = target;
    targetMetadata.CodeSha256 = Buffer.from(sha256(`code:${target}`), 'hex').toString('base64');
  } else {
    targetMetadata.ImageID = `sha256:${sha256(`config:${target}`)}`;
    targetMetadata.RepoDigests = [`${target.split(/[:@]/)[0]}@${digest}`];
    targetMetadata.Size = 50000000 + (parseInt(sha256(target).slice(0, 6), 16) % 200000000);
  }
  if (scenario !== 'distroless') targetMetadata.OS = { Family: 'debian', Name: '12.6' };
  const scanResult = {
    SchemaVersion: 2,
    ScannerVersion: VERSION,
    ArtifactName: target,
    ArtifactType: command === 'lambda' ? 'lambda_function' : 'container_image',
    Metadata: { TargetMetadata: targetMetadata, ScanStartTime: started.toISOString(), ScanEndTime: new Date().toISOString() },
    Summary: { PackageCount: 120 + findings.length, VulnerabilityCount: findings.length, SecretCount: secrets.length },
  };
  fs.writeFileSync(path.join(outputDir, `${prefix}-ScanResult.json`), JSON.stringify(scanResult, null, 2));
  if (reportFormats.includes('sarif')) {
    const body = scenario === 'garbled' ? '{"version":"2.1.0","runs":[{"results":[' : JSON.stringify(sarif(findings, secrets), null, 2);
    fs.writeFileSync(path.join(outputDir, `${prefix}-Report.sarif.json`), body);
  }
  if (reportFormats.includes('json')) {
    fs.writeFileSync(path.join(outputDir, `${prefix}-Report.json`), JSON.stringify({ target, vulnerabilities: findings.map((f) => f.qid) }));
  }
}

async function main() {
  const { flags, positionals } = parseArgs(process.argv.slice(2));
  if (flags.version) {
    process.stdout.write(`qscanner version ${VERSION}\n`);
    return 0;
  }
  if (flags.help || positionals.length === 0) usage('a command is required');
  const [command, target, ...rest] = positionals;
  if (command === 'update') return 0;
  if (!COMMANDS.includes(command)) usage(`unknown command "${command}"`);
  if (!target) usage(`command "${command}" needs a target`);
  if (rest.length > 0) usage(`unexpected argument "${rest[0]}"`);
  if (command === 'lambda' && !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/.test(target)) {
    usage(`invalid Lambda function ARN "${target}"`);
  }
  if (command === 'image' && /\s/.test(target)) usage(`invalid image reference "${target}"`);
  const mode = flags.mode || 'get-report';
  if (!MODES.includes(mode)) usage(`invalid --mode "${mode}" (allowed: ${MODES.join(', ')})`);
  checkList('scan-types', flags['scan-types'], SCAN_TYPES);
  checkList('format', flags.format, FORMATS);
  const reportFormats = checkList('report-format', flags['report-format'], REPORT_FORMATS);
  if (flags['log-level'] && !LOG_LEVELS.includes(flags['log-level'])) usage(`invalid --log-level "${flags['log-level']}"`);
  if (flags['scan-timeout'] && !/^\d+(s|m|h)$/.test(flags['scan-timeout'])) usage(`invalid --scan-timeout "${flags['scan-timeout']}" (e.g. 300s)`);
  if (!flags.pod && !flags['gateway-url']) usage('one of --pod or --gateway-url is required');
  if (flags.pod && !PODS.includes(flags.pod.toUpperCase())) usage(`unknown --pod "${flags.pod}"`);
  if (flags['gateway-url'] && !/^https?:\/\/[^\s/]+/.test(flags['gateway-url'])) usage(`invalid --gateway-url "${flags['gateway-url']}"`);
  if (!process.env.QUALYS_ACCESS_TOKEN && !flags['access-token']) fail(2, 'an access token is required (--access-token or QUALYS_ACCESS_TOKEN)');
  if (mode === 'get-report' && !flags['output-dir']) usage('--output-dir is required with --mode get-report');
  if (flags['output-dir']) fs.mkdirSync(flags['output-dir'], { recursive: true });
  if (flags['cache-dir']) fs.mkdirSync(flags['cache-dir'], { recursive: true });

  const started = new Date();
  if (command === 'repo') {
    // Temp directory names are random: keywords in them mean nothing, so a tree is always judged by its content.
    let stats;
    try {
      stats = fs.statSync(target);
    } catch {
      fail(5, `failed to analyze artifact: no such directory ${target}`);
    }
    if (!stats.isDirectory()) fail(5, `failed to analyze artifact: ${target} is not a directory`);
    const summary = flags['output-dir'] ? writeRepoReports(flags['output-dir'], target, started, reportFormats) : { files: 0, findings: 0, secrets: 0 };
    logInvocation({ scenario: 'repo', repo: summary });
    process.stdout.write(`scanning repo ${target}: ${summary.files} files\n`);
    return 0;
  }
  const scenario = scenarioOf(target);
  if (scenario === 'slow') {
    // A grandchild proves that a timeout kills the whole process tree, not just this process.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
    logInvocation({ scenario, grandchildPid: child.pid });
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.FAKE_QSCANNER_SLOW_MS || 120000)));
    child.kill();
  } else {
    logInvocation({ scenario });
  }
  process.stdout.write(`scanning ${command} ${target} (${scenario})\n`);
  switch (scenario) {
    case 'spill': {
      // A credential (env FAKE_QSCANNER_SPILL_VAR, default the Qualys token) in a debug line, written in
      // two pieces split mid-value and followed by FAKE_QSCANNER_SPILL_CHARS characters of
      // FAKE_QSCANNER_SPILL_FILL: tests place the value across the runner's stderr cuts with it.
      const secret = process.env[process.env.FAKE_QSCANNER_SPILL_VAR || 'QUALYS_ACCESS_TOKEN'] || '';
      const half = Math.floor(secret.length / 2);
      const fill = (process.env.FAKE_QSCANNER_SPILL_FILL || '.').repeat(Number(process.env.FAKE_QSCANNER_SPILL_CHARS || 0));
      await new Promise((resolve) => process.stderr.write(`level=debug msg="credential ${secret.slice(0, half)}`, resolve));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await new Promise((resolve) => process.stderr.write(`${secret.slice(half)}${fill}`, resolve));
      return 1;
    }
    case 'leaky':
      // A debug line that echoes the token: the runner must never pass it on.
      process.stderr.write(`level=debug msg="using token ${process.env.QUALYS_ACCESS_TOKEN || ''}"\n`);
      // ...and the registry login the real CLI may echo at debug level.
      if (process.env.QSCANNER_REGISTRY_PASSWORD) process.stderr.write(`level=debug msg="registry login password=${process.env.QSCANNER_REGISTRY_PASSWORD} region=${process.env.AWS_REGION || ''}"\n`);
      process.stderr.write('level=error msg="authentication failed"\n');
      return 1;
    case 'broken':
      process.stderr.write('level=info msg="pulling artifact"\n');
      process.stderr.write('level=error msg="failed to analyze artifact: unexpected EOF"\n');
      return 1;
    case 'uploadfail':
      process.stderr.write('level=error msg="failed to upload scan result: 503 Service Unavailable"\n');
      return 33;
    case 'notready':
      process.stderr.write('level=warn msg="vulnerability report is not ready yet, retry later"\n');
      return 40;
    case 'policywait':
      process.stderr.write('level=warn msg="policy evaluation result is not ready yet"\n');
      return 41;
    case 'nosca':
      process.stderr.write('level=error msg="OS not found"\n');
      return 15;
    default:
      break;
  }
  if (flags['output-dir']) writeReports(flags['output-dir'], command, target, scenario, started, reportFormats);
  if (scenario === 'deny') return 42;
  if (scenario === 'audit') return 43;
  if (scenario === 'distroless') {
    process.stderr.write('level=warn msg="OS not found, only application packages were scanned"\n');
    return 15;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => fail(1, `internal error: ${err && err.message}`),
);
