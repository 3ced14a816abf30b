/** The shape every card builder returns: an Adaptive Card as Teams receives it. */
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
  /** Universal Actions: Teams asks the bot for a fresh card when a listed user views it. */
  refresh?: Record<string, unknown>;
}
