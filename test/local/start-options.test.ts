import { expect } from 'chai';
import { HelpRequested, parseStartOptions, UsageError } from '../../local/start/options';

describe('npm start options', () => {
  const cases: [string[], Partial<ReturnType<typeof parseStartOptions>>][] = [
    [[], { mode: 'demo', events: [], arm: [], json: false, wide: false, verbose: false }],
    [['--event', 'nsg.json', '--arm', 'nsg-get.json', '--arm', 'more.json'], { mode: 'replay', events: ['nsg.json'], arm: ['nsg-get.json', 'more.json'] }],
    [['--serve', '--arm', 'nsg-get.json'], { mode: 'serve', arm: ['nsg-get.json'] }],
    [['--event', 'a.json', '--event', 'b.json', '--json'], { mode: 'replay', events: ['a.json', 'b.json'], json: true }],
    [['--event', 'a.json', '--image', 'nginx:1.27', '--image', 'redis'], { mode: 'replay', images: ['nginx:1.27', 'redis'] }],
    [['--serve', '--port', '8080'], { mode: 'serve', port: 8080 }],
    [['--event', 'put.json', '--object', 'app.zip', '--object', 'lib.jar'], { mode: 'replay', objects: ['app.zip', 'lib.jar'] }],
    [['--event', 'a.json'], { objects: [] }],
    [['--wide', '--out', '/tmp/runs', '--verbose'], { mode: 'demo', wide: true, out: '/tmp/runs', verbose: true }],
    [['--inventory', '--json'], { mode: 'inventory', inventory: true, json: true }],
  ];
  for (const [argv, expected] of cases) {
    it(`reads ${JSON.stringify(argv)}`, () => expect(parseStartOptions(argv)).to.deep.include(expected));
  }

  const bad: [string[], string][] = [
    [['--serve', '--event', 'a.json'], '--serve and --event do not go together'],
    [['--serve', '--json'], '--json goes with a demo or --event replay'],
    [['--port', '80'], '--port goes with --serve'],
    [['--serve', '--port', 'http'], 'expected a port number'],
    [['--out', ' '], '--out needs a directory'],
    [['--object', 'app.zip'], '--object goes with --event'],
    [['--serve', '--object', 'app.zip'], '--object goes with --event'],
    [['--event', 'a.json', '--object', ''], '--object needs a file'],
    [['--inventory', '--serve'], '--inventory goes alone'],
    [['--inventory', '--event', 'a.json'], '--inventory goes alone'],
    [['--arm', 'nsg-get.json'], '--arm goes with --event or --serve'],
    [['--nope'], "Unknown option '--nope'"],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${JSON.stringify(argv)} saying what is wrong`, () => {
      expect(() => parseStartOptions(argv)).to.throw(UsageError, message);
    });
  }

  it('--help is not an error: it carries the usage, exit codes included', () => {
    expect(() => parseStartOptions(['--help'])).to.throw(HelpRequested, /exit codes: 0 .* 1 an event failed, 2 usage error, 3 /);
  });
});
