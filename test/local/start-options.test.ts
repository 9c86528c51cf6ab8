import { expect } from 'chai';
import { parseStartOptions, UsageError } from '../../local/start/options';
import { renderTable } from '../../local/start/table';

describe('npm start options', () => {
  const cases: [string[], Partial<ReturnType<typeof parseStartOptions>>][] = [
    [[], { mode: 'demo', events: [], json: false }],
    [['--event', 'a.json', '--event', 'b.json', '--json'], { mode: 'replay', events: ['a.json', 'b.json'], json: true }],
    [['--event', 'a.json', '--image', 'nginx:1.27', '--image', 'redis'], { mode: 'replay', images: ['nginx:1.27', 'redis'] }],
    [['--serve', '--port', '8080'], { mode: 'serve', port: 8080 }],
  ];
  for (const [argv, expected] of cases) {
    it(`reads ${JSON.stringify(argv)}`, () => expect(parseStartOptions(argv)).to.deep.include(expected));
  }

  const bad: [string[], string][] = [
    [['--serve', '--event', 'a.json'], '--serve and --event do not go together'],
    [['--port', '80'], '--port goes with --serve'],
    [['--serve', '--port', 'http'], 'expected a port number'],
    [['--nope'], "Unknown option '--nope'"],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${JSON.stringify(argv)} saying what is wrong`, () => {
      expect(() => parseStartOptions(argv)).to.throw(UsageError, message);
    });
  }

  it('renders aligned table columns', () => {
    expect(renderTable(['a', 'bb'], [['xxx', 'y'], ['z', '']])).to.equal('a    bb\n---  --\nxxx  y\nz');
  });
});
