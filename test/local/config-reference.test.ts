import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderReadmeBlock } from '../../local/config-reference';
import { AwsConfigSchema, AzureConfigSchema, QualysConfigSchema } from '../../shared/config';

describe('configuration reference in README.md', () => {
  const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

  it('is exactly the table rendered from the config schema (run `npm run docs:config` after changing it)', () => {
    expect(readme).to.include(renderReadmeBlock());
  });

  it('lists every top-level key of every section', () => {
    const block = renderReadmeBlock();
    for (const [section, schema] of [
      ['qualys', QualysConfigSchema],
      ['aws', AwsConfigSchema],
      ['azure', AzureConfigSchema],
    ] as const) {
      for (const key of Object.keys(schema.shape)) expect(block).to.include(`\`${section}.${key}\``);
    }
  });
});
