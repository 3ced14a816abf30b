/** One utterance: the text, the command it means, its arguments, and what else it carries. */
export type Row = [text: string, command: string, args: Record<string, string>, extra?: { days?: number; hours?: number; permanent?: true; justification?: string; target?: 'self' | 'user' | 'org' | 'group' }];
