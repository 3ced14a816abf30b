import { CardFactory, type Activity } from 'botbuilder';
import type { AdaptiveCard } from '../cards/builders';

const summaryMaxLength = 150;

/** Markdown Teams renders in a TextBlock, reduced to the words. */
function plain(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|\*|_|`)/g, '')
    .replace(/^\s*[-#>]+\s*/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first TextBlock's text, depth first through containers and columns: every card leads with its title. */
function firstText(elements: unknown): string | undefined {
  if (!Array.isArray(elements)) return undefined;
  for (const element of elements as Record<string, unknown>[]) {
    if (!element || typeof element !== 'object') continue;
    if (element.type === 'TextBlock' && typeof element.text === 'string' && plain(element.text)) return plain(element.text);
    if (element.type === 'RichTextBlock' && Array.isArray(element.inlines)) {
      const text = plain((element.inlines as unknown[]).map((i) => (typeof i === 'string' ? i : String((i as { text?: string }).text ?? ''))).join(''));
      if (text) return text;
    }
    const nested = firstText(element.items) ?? (Array.isArray(element.columns) ? firstText((element.columns as { items?: unknown }[]).flatMap((c) => (Array.isArray(c.items) ? c.items : []))) : undefined);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * What Teams shows for a card in notifications and the chat list instead of "Sent a card": the
 * card's title, already in the user's language (cards are built localized).
 */
export function cardSummary(card: AdaptiveCard): string | undefined {
  const text = firstText(card.body);
  if (!text) return undefined;
  return text.length > summaryMaxLength ? `${text.slice(0, summaryMaxLength - 1).trimEnd()}…` : text;
}

/** A message activity carrying the card, with its summary. */
export function cardMessage(card: AdaptiveCard): Partial<Activity> {
  const summary = cardSummary(card);
  return { type: 'message', attachments: [CardFactory.adaptiveCard(card)], ...(summary ? { summary } : {}) };
}
