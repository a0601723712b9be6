/** `--grpc-port` / `GRPC_PORT`: off unless asked for, validated like `--port`. */
import { ConfigError, parseConfig } from '../../server/config.js';
import { expect } from '../helpers/chai.js';

const configOf = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
};

describe('server config: the gRPC port', () => {
  it('is off by default', () => {
    expect(configOf([]).grpcPort).to.equal(undefined);
  });

  it('is read from --grpc-port over GRPC_PORT', () => {
    expect(configOf(['--grpc-port', '8001']).grpcPort).to.equal(8001);
    expect(configOf([], { GRPC_PORT: '9001' }).grpcPort).to.equal(9001);
    expect(configOf(['--grpc-port=0'], { GRPC_PORT: '9001' }).grpcPort).to.equal(0);
  });

  it('refuses a bad port, naming the flag or the variable', () => {
    expect(() => configOf(['--grpc-port', 'x'])).to.throw(ConfigError, /--grpc-port must be an integer/);
    expect(() => configOf([], { GRPC_PORT: '-1' })).to.throw(ConfigError, /GRPC_PORT must be an integer >= 0/);
    expect(() => configOf(['--grpc-port', '70000'])).to.throw(ConfigError, /at most 65535/);
    expect(() => configOf(['--port', '8000', '--grpc-port', '8000'])).to.throw(ConfigError, /must differ/);
  });
});
