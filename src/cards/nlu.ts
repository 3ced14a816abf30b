import type { Translate } from '../i18n';
import type { AdaptiveCard } from './card';

/** Cards for what the bot made of a message that was not quite a command (issue #10). */

const card = (body: Record<string, unknown>[], actions: Record<string, unknown>[] = []): AdaptiveCard => ({
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.4',
  body,
  ...(actions.length ? { actions } : {}),
});

const paragraph = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text, wrap: true, ...extra });

/**
 * A button that sends its text as if the person had typed it (Teams `imBack`), so the command
 * it runs goes through the same checks as any other message.
 */
const sayAction = (text: string) => ({ type: 'Action.Submit', title: text, data: { msteams: { type: 'imBack', value: text } } });

/** "Did you mean …?": up to three commands close to what was typed, each a button that runs it. */
export function didYouMeanCard(t: Translate, suggestions: string[], lead?: { text: string; code: string }): AdaptiveCard {
  return card([
    ...(lead ? [paragraph(lead.text)] : []),
    paragraph(t('nlu.didYouMean', { count: suggestions.length }), { weight: 'Bolder' }),
    ...(lead ? [paragraph(t('card.ref', { code: lead.code }), { size: 'Small', isSubtle: true, spacing: 'Medium' })] : []),
  ], suggestions.map(sayAction));
}

/** A command with nobody to run it for: ask who, with an example. */
export function askTargetCard(t: Translate, slot: string, example: string): AdaptiveCard {
  return card([
    paragraph(t(slot === 'group' ? 'nlu.askGroup' : 'nlu.askUser'), { weight: 'Bolder' }),
    paragraph(t('nlu.forExample', { example }), { isSubtle: true }),
  ]);
}

/** A typed `undo` with several changes it could mean: one button per change. */
export function undoWhichCard(t: Translate, choices: { text: string; requestId: string; verb: string }[]): AdaptiveCard {
  return card([paragraph(t('nlu.undoWhich', { count: choices.length }), { weight: 'Bolder' })],
    choices.map((c) => ({ type: 'Action.Execute', title: c.text, verb: c.verb, data: { verb: c.verb, requestId: c.requestId } })));
}
