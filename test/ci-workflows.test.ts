import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string;
  steps: Step[];
  strategy?: { matrix: Record<string, unknown> };
}
const workflow = (name: string) => parse(readFileSync(path.join(ROOT, '.github', 'workflows', name), 'utf8')) as { jobs: Record<string, Job> };

describe('CI workflows', () => {
  it('.ci/stacks lists one stack per Pulumi.<stack>.yaml, as JSON (the preview matrix) or one per line', () => {
    const files = readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice('Pulumi.'.length, -'.yaml'.length));
    expect(JSON.parse(execFileSync('bash', [path.join(ROOT, '.ci', 'stacks')], { encoding: 'utf8' }))).to.deep.equal(files);
    expect(execFileSync('bash', [path.join(ROOT, '.ci', 'stacks'), '--lines'], { encoding: 'utf8' }).trim().split('\n')).to.deep.equal(files);
  });

  describe('test.yml: the offline plan of every stack', () => {
    const step = workflow('test.yml').jobs['test']!.steps.find((s) => s.name === 'Offline plan of every stack')!;
    let dir: string;
    let fakeBin: string;

    before(() => {
      // A project with two stacks and an npm whose plan fails for stack "b", to run the step's script as CI does.
      dir = mkdtempSync(path.join(tmpdir(), 'shipscan-ci-'));
      mkdirSync(path.join(dir, '.ci'));
      copyFileSync(path.join(ROOT, '.ci', 'stacks'), path.join(dir, '.ci', 'stacks'));
      writeFileSync(path.join(dir, 'Pulumi.a.yaml'), 'config: {}\n');
      writeFileSync(path.join(dir, 'Pulumi.b.yaml'), 'config: {}\n');
      fakeBin = path.join(dir, 'bin');
      mkdirSync(fakeBin);
      writeFileSync(path.join(fakeBin, 'npm'), '#!/bin/sh\necho "planned $*"\ncase "$*" in *"--stack b"*) [ -n "$FAIL_B" ] && exit 1;; esac\nexit 0\n');
      chmodSync(path.join(fakeBin, 'npm'), 0o755);
    });

    const runStep = (env: Record<string, string>) =>
      spawnSync('bash', ['-e', '-c', step.run!], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, ...env } });

    it('plans each stack with --placeholder-secrets, in bash', () => {
      expect(step.shell).to.equal('bash');
      const ok = runStep({});
      expect(ok.status, ok.stderr).to.equal(0);
      expect(readFileSync(path.join(dir, 'plans', 'a.txt'), 'utf8')).to.include('planned run --silent plan -- --stack a --placeholder-secrets --out plans/a.json');
      expect(readFileSync(path.join(dir, 'plans', 'b.txt'), 'utf8')).to.include('--stack b');
    });

    it('fails when a plan fails, although its output goes through tee (pipefail)', () => {
      const failed = runStep({ FAIL_B: '1' });
      expect(failed.status).to.not.equal(0);
    });
  });

  describe('preview.yml', () => {
    const { jobs } = workflow('preview.yml');

    it('takes the matrix from the stack files', () => {
      expect(jobs['stacks']!.steps.some((s) => s.run?.includes('bash .ci/stacks'))).to.equal(true);
      expect(jobs['preview']!.needs).to.equal('stacks');
      expect(jobs['preview']!.strategy!.matrix['stack']).to.equal('${{ fromJSON(needs.stacks.outputs.stacks) }}');
    });

    it('skips pull requests from forks with a notice saying why, and previews only the repository\'s own', () => {
      expect(jobs['preview']!.if).to.include('github.event.pull_request.head.repo.full_name == github.repository');
      expect(jobs['fork']!.if).to.equal('github.event.pull_request.head.repo.full_name != github.repository');
      expect(jobs['fork']!.steps[0]!.run).to.match(/::notice title=pulumi preview skipped::.*fork.*no repository secrets/);
    });

    it('creates or selects the stack and sets the secrets the program requires before previewing', () => {
      const steps = jobs['preview']!.steps;
      const select = steps.findIndex((s) => s.run?.includes('pulumi stack select --create "$STACK"'));
      const preview = steps.findIndex((s) => s.with?.['command'] === 'preview');
      expect(select).to.be.greaterThan(-1);
      expect(preview).to.be.greaterThan(select);
      const run = steps[select]!.run!;
      expect(run).to.match(/^set -euo pipefail$/m);
      for (const key of ['qualys.accessToken', 'qualys.username', 'qualys.password', 'azure.alertWebhookUrl']) expect(run).to.include(`set_secret ${key} `);
    });

    it('every secret and variable the workflows read is listed in the README', () => {
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const text = readFileSync(path.join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8');
      const names = new Set([...text.matchAll(/\$\{\{ (?:secrets|vars)\.([A-Z_]+) \}\}/g)].map((m) => m[1]!).filter((n) => n !== 'GITHUB_TOKEN'));
      expect(names.size).to.be.greaterThan(5);
      for (const name of names) expect(readme, name).to.include(`\`${name}\``);
    });
  });
});
