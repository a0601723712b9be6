/**
 * The title screen: what the game is, how to play, and a Play button (Enter
 * or Space also start). It covers the arena, which loads behind it; the game
 * joins the arena when the player presses Play. Play is also the gesture the
 * browser needs before the game may make sounds.
 *
 * @module
 */
import { el } from './dom.js';

/** Options of {@link showTitleScreen}. */
export interface TitleOptions {
  /** The element the screen covers (the arena's container). */
  parent: HTMLElement;
  /** Called once, when the player starts, with the name typed ('' for none). */
  onPlay: (name: string) => void;
}

/** Where the name is remembered between visits. */
const NAME_KEY = 'playmind-name';

/**
 * Shows the title screen.
 *
 * @returns a function that removes it (as Play does)
 */
export function showTitleScreen(options: TitleOptions): () => void {
  const screen = el('section', { id: 'title-screen', class: 'title-screen', 'aria-labelledby': 'title-heading' });
  const card = el('div', { class: 'title-card' });
  card.append(
    el('h1', { id: 'title-heading' }, 'Playmind Arena'),
    el(
      'p',
      { class: 'tagline' },
      'The guards are played by a neural network trained to beat the scripted guard it learned from.',
    ),
  );
  const how = el('ul', { class: 'how-to-play' });
  for (const line of [
    'Move with WASD or the arrow keys; SPACE attacks the nearest guard in reach.',
    'A round lasts a minute: together, the players must score 20 points before the clock runs out, or the guards win. Downing a guard or picking up gold scores 1, quests more.',
    'Take a quest from the panel: it tells you why it is suggested for you.',
    'Click a guard to see the AI think: whom it targets, how likely each action was, and what the scripted guard it learned from would have done. The panel can switch every guard to that scripted guard, to feel the difference.',
    'If the server goes away, the game carries on in this page and rejoins when it is back.',
  ])
    how.append(el('li', {}, line));
  card.append(how);
  const label = el('label', {}, 'Your name');
  const input = el('input', { id: 'player-name', maxlength: '16', autocomplete: 'nickname', spellcheck: 'false' });
  try {
    input.value = localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    // storage off: no name remembered
  }
  label.append(input);
  card.append(label);
  const play = el('button', { type: 'button', id: 'play', class: 'play' }, 'Play');
  card.append(play, el('p', { class: 'hint' }, 'Enter or Space starts · M mutes the sound'));
  screen.append(card);
  options.parent.append(screen);

  let done = false;
  const start = () => {
    if (done) return;
    done = true;
    window.removeEventListener('keydown', onKey, true);
    const name = input.value.trim().slice(0, 16);
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch {
      // storage off
    }
    screen.remove();
    options.onPlay(name);
  };
  const onKey = (e: KeyboardEvent) => {
    // Space types into the name field; Enter starts from anywhere.
    if (e.key === 'Enter' || (e.key === ' ' && e.target !== input)) {
      e.preventDefault();
      e.stopPropagation();
      start();
    }
  };
  play.addEventListener('click', start);
  window.addEventListener('keydown', onKey, true);
  play.focus();
  return start;
}
