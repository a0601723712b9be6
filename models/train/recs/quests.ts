/**
 * The demo game's quest catalogue: 8 regions × 6 quests. Quests 1–4 of a region
 * form its main chain (each needs the previous one finished); 5 and 6 are side
 * quests anyone can take. Tags drive the simulated players' tastes
 * (see telemetry.ts) and are shipped in the quest-recs manifest.
 */

/** Quest tags (the game's quest categories). */
export const QUEST_TAGS = [
  'combat',
  'exploration',
  'collection',
  'stealth',
  'escort',
  'puzzle',
  'crafting',
  'story',
  'boss',
  'social',
] as const;
export type QuestTag = (typeof QUEST_TAGS)[number];

/** The game's regions, in the order a new player usually meets them. */
export const REGIONS = ['forest', 'coast', 'city', 'desert', 'swamp', 'cave', 'mountain', 'ruins'] as const;
export type Region = (typeof REGIONS)[number];

/** One quest of the catalogue. */
export interface Quest {
  /** Stable id, e.g. `q-forest-1`. */
  id: string;
  title: string;
  region: Region;
  /** Position in the region (1–4: main chain, 5–6: side quests). */
  step: number;
  /** The quest that must be finished first, if any. */
  requires?: string;
  tags: QuestTag[];
  /** 0 (trivial) … 1 (hardest). */
  difficulty: number;
}

type Row = [title: string, tags: QuestTag[], difficulty: number];

const TABLE: Record<Region, Row[]> = {
  forest: [
    ['Wolves at the Mill', ['combat'], 0.1],
    ['The Lost Herbalist', ['escort', 'exploration'], 0.2],
    ['Heartwood Riddles', ['puzzle', 'story'], 0.3],
    ['The Stag King', ['boss', 'combat', 'story'], 0.45],
    ['Mushroom Harvest', ['collection'], 0.1],
    ['Poacher Camp', ['stealth', 'combat'], 0.3],
  ],
  coast: [
    ['Wreckers of the Bay', ['combat', 'exploration'], 0.2],
    ['Lighthouse Keeper', ['escort', 'social'], 0.25],
    ['Tidal Cipher', ['puzzle'], 0.35],
    ['The Drowned Captain', ['boss', 'story'], 0.5],
    ['Pearl Diving', ['collection', 'exploration'], 0.2],
    ['Smuggler Ledger', ['stealth', 'social'], 0.35],
  ],
  city: [
    ['A Guild Invitation', ['social', 'story'], 0.1],
    ['Night of Knives', ['stealth', 'combat'], 0.4],
    ['The Clockwork Vault', ['puzzle', 'crafting'], 0.45],
    ['Usurper of the Throne', ['boss', 'story', 'combat'], 0.6],
    ['Market Trade-Off', ['social', 'crafting'], 0.15],
    ['Rooftop Courier', ['exploration', 'escort'], 0.25],
  ],
  desert: [
    ['Caravan Guard', ['escort', 'combat'], 0.3],
    ['Mirage Maps', ['exploration'], 0.35],
    ['Sphinx Questions', ['puzzle', 'story'], 0.5],
    ['The Sand Wyrm', ['boss', 'combat'], 0.7],
    ['Scarab Relics', ['collection'], 0.3],
    ['Oasis Diplomacy', ['social'], 0.3],
  ],
  swamp: [
    ['Bog Lights', ['exploration', 'puzzle'], 0.35],
    ['Witch of the Fen', ['social', 'story'], 0.4],
    ['Rot Brewers', ['crafting', 'collection'], 0.4],
    ['The Hydra', ['boss', 'combat'], 0.75],
    ['Frog Census', ['collection'], 0.2],
    ['Silent Reeds', ['stealth'], 0.45],
  ],
  cave: [
    ['Into the Deep', ['exploration'], 0.4],
    ['Crystal Forge', ['crafting', 'puzzle'], 0.5],
    ['Goblin Warrens', ['combat', 'stealth'], 0.55],
    ['The Stone Titan', ['boss', 'combat', 'story'], 0.8],
    ['Glowworm Jars', ['collection'], 0.3],
    ['Lost Miners', ['escort', 'exploration'], 0.45],
  ],
  mountain: [
    ['The High Pass', ['exploration', 'escort'], 0.5],
    ['Monastery Trials', ['puzzle', 'social'], 0.55],
    ['Avalanche Rescue', ['escort', 'story'], 0.6],
    ['Frost Giant Jarl', ['boss', 'combat'], 0.85],
    ['Eagle Feathers', ['collection', 'exploration'], 0.4],
    ['Smithy of the Peaks', ['crafting'], 0.45],
  ],
  ruins: [
    ['Echoes of the Old City', ['exploration', 'story'], 0.55],
    ['Rune Locks', ['puzzle'], 0.65],
    ['Tomb Robbers', ['stealth', 'combat'], 0.6],
    ['The Lich Sovereign', ['boss', 'combat', 'story'], 0.95],
    ['Relic Hunter', ['collection', 'exploration'], 0.5],
    ['Ghost Bargains', ['social', 'puzzle'], 0.55],
  ],
};

/** The 48 quests, region by region, step by step. */
export const QUESTS: readonly Quest[] = REGIONS.flatMap((region) =>
  TABLE[region].map(([title, tags, difficulty], i): Quest => {
    const step = i + 1;
    const q: Quest = { id: `q-${region}-${step}`, title, region, step, tags, difficulty };
    if (step >= 2 && step <= 4) q.requires = `q-${region}-${step - 1}`;
    return q;
  }),
);

/** The catalogue as the recommender manifest carries it (id, title, tags with the region). */
export function questCatalogue(): Array<{ id: string; title: string; tags: string[] }> {
  return QUESTS.map((q) => ({ id: q.id, title: q.title, tags: [...q.tags, q.region] }));
}
