import fc from 'fast-check';
import { parseUtterance, utteranceMaxLength, utteranceTooLong } from '../../src/nlu/parse';
import { maxBodyBytes } from '../../src/server';
import { abusiveText, fuzzRuns, percentile } from '../support/fuzz';
import { count, recordFigure } from '../support/figures';

/** What the dispatcher does with a message's text before anything else: refuse it as too long, or parse it. */
function read(text: string) {
  return utteranceTooLong(text) ? 'too long' : parseUtterance(text);
}

/**
 * Parse time of one text. Two cores are shared with the rest of the suite, so a run over budget is
 * measured again (best of three): a slow pattern is slow every time, a scheduling pause is not.
 */
function timed(text: string, budgetMs = 100): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 3 && best >= budgetMs; attempt++) {
    const started = performance.now();
    read(text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('one message cannot freeze the bot (issue #13, hole 1)', () => {
  test('the probe that took 24.7 s: "a" + 100,000 dots + "x" is refused as too long within 100 ms', () => {
    const text = 'a' + '.'.repeat(100_000) + 'x';
    expect(timed(text)).toBeLessThan(100);
    expect(read(text)).toBe('too long');
  });

  test.each([
    ['an unclosed tag repeated', '<'.repeat(utteranceMaxLength)],
    ['a comma run before a duration', `enable SMTP for bob ${','.repeat(utteranceMaxLength - 40)}for 7 days`],
    ['trailing punctuation up to the limit', `smtp status bob${'.'.repeat(utteranceMaxLength - 20)}`],
  ])('%s, just under the limit, parses within 100 ms', (_name, text) => {
    expect(text.length).toBeLessThanOrEqual(utteranceMaxLength);
    expect(timed(text)).toBeLessThan(100);
  });

  test('text at the limit is still read; one character more is refused', () => {
    const user = 'b'.repeat(utteranceMaxLength - 'smtp status '.length);
    expect(parseUtterance(`smtp status ${user}`)?.args.user).toBe(user);
    expect(utteranceTooLong(`smtp status ${user}x`)).toBe(true);
    // Markup and trailing punctuation do not count: the limit is on what is read.
    expect(utteranceTooLong(`<at>SMTP Gate</at> smtp status ${user}!!!`)).toBe(false);
  });

  test(`any text up to the body limit (${maxBodyBytes} characters) is answered within 100 ms of parse time`, () => {
    const times: number[] = [];
    fc.assert(fc.property(abusiveText(maxBodyBytes), (text) => {
      const ms = timed(text);
      times.push(ms);
      return ms < 100;
    }), { numRuns: fuzzRuns });
    expect(percentile(times, 99)).toBeLessThan(100);
    recordFigure('parse-time', {
      suite: 'Utterance parser, time (hole 1)',
      tried: `${count(times.length)} fuzzed texts up to the ${maxBodyBytes / 1024} KiB body limit (repeated markup, separators, markers, NUL, lone surrogates)`,
      held: `0 over 100 ms; p99 ${percentile(times, 99).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`,
    });
  });

  test('any text a user can type is answered with a command or nothing, never a crash', () => {
    const times: number[] = [];
    let understood = 0;
    fc.assert(fc.property(abusiveText(utteranceMaxLength), (text) => {
      const started = performance.now();
      const parsed = parseUtterance(text);
      times.push(performance.now() - started);
      if (parsed) {
        understood++;
        expect(typeof parsed.command.id).toBe('string');
      }
    }), { numRuns: fuzzRuns });
    recordFigure('parse-fuzz', {
      suite: 'Utterance parser, fuzzed',
      tried: `${count(times.length)} fuzzed utterances up to ${count(utteranceMaxLength)} characters`,
      held: `0 crashes (${count(understood)} read as a command); p99 parse ${percentile(times, 99).toFixed(2)} ms`,
    });
  });
});
