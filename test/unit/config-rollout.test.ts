/** `--retrain-recs-minutes` / `RETRAIN_RECS_MINUTES`: off unless asked for, a positive integer. */
import { ConfigError, parseConfig } from '../../server/config.js';
import { expect } from '../helpers/chai.js';

const configOf = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
};

describe('server config: the recommender retraining schedule', () => {
  it('is off by default (an admin call retrains)', () => {
    expect(configOf([]).retrainRecsMinutes).to.equal(undefined);
  });

  it('is read from --retrain-recs-minutes over RETRAIN_RECS_MINUTES', () => {
    expect(configOf(['--retrain-recs-minutes', '30']).retrainRecsMinutes).to.equal(30);
    expect(configOf([], { RETRAIN_RECS_MINUTES: '90' }).retrainRecsMinutes).to.equal(90);
    expect(configOf(['--retrain-recs-minutes=5'], { RETRAIN_RECS_MINUTES: '90' }).retrainRecsMinutes).to.equal(5);
  });

  it('refuses a value that is not a positive integer, naming where it came from', () => {
    expect(() => configOf(['--retrain-recs-minutes', '0'])).to.throw(ConfigError, /--retrain-recs-minutes/);
    expect(() => configOf([], { RETRAIN_RECS_MINUTES: 'often' })).to.throw(ConfigError, /RETRAIN_RECS_MINUTES/);
  });
});
