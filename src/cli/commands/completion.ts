// completion: shell completion for bash and zsh, made from the command list (so a new command or
// option completes without touching this file). zsh runs the same function through bashcompinit.
import { OPTIONS as SERVE_OPTIONS } from '../../config.js';
import { GLOBAL_OPTIONS, type CommandScope } from '../args.js';
import { SETTINGS_FILE_OPTIONS } from '../serve-settings.js';
import { print } from '../output.js';
import { guarded, usageOnly, type ClientCommand } from '../run-command.js';

interface Completable {
  name: string;
  subcommands?: readonly string[];
  options: readonly string[];
}

// The server-side commands (main.ts parses these itself).
const SERVER_COMMANDS: Completable[] = [
  { name: 'serve', options: ['help', ...Object.keys(SETTINGS_FILE_OPTIONS), ...SERVE_OPTIONS.map((o) => o.flag)] },
  { name: 'edge', options: ['name', 'host', 'port', 'admin-host', 'admin-port', 'secret-file', 'max-bytes', 'origin-allow'] },
  { name: 'agent', options: ['config', 'listen', 'secret-file', 'nats', 'pop', 'prefix'] },
  { name: 'cluster', options: ['serves', 'pops', 'edges-per-pop', 'port', 'dir', 'origin-allow'] },
  { name: 'help', options: [] },
];

/** Options whose value is a file or directory name. */
const PATH_OPTIONS = ['from-file', 'secret-file', 'data-dir', 'config'];

const SHELLS = ['bash', 'zsh'] as const;

const words = (list: readonly string[]) => list.join(' ');

function bashFunction(commands: readonly Completable[]): string {
  const cases = commands.map((c) => `    ${c.name}) subs=${JSON.stringify(words(c.subcommands ?? []))}; opts=${JSON.stringify(words(c.options.map((o) => `--${o}`)))} ;;`);
  return `_cachectl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" subs="" opts=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${JSON.stringify(`${words(commands.map((c) => c.name))} --version --help`)} -- "$cur") )
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
  case "$prev" in
    ${PATH_OPTIONS.map((o) => `--${o}`).join('|')})
      COMPREPLY=( $(compgen -f -- "$cur") )
      return 0 ;;
    --profile)
      local config="\${XDG_CONFIG_HOME:-$HOME/.config}/cachectl/config"
      COMPREPLY=( $(compgen -W "$(sed -n 's/^\\[\\(.*\\)\\]$/\\1/p' "$config" 2>/dev/null)" -- "$cur") )
      return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ "$COMP_CWORD" -eq 2 ] && [ -n "$subs" ]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  fi
  return 0
}`;
}

export function completionScript(shell: (typeof SHELLS)[number], clientCommands: readonly ClientCommand[]): string {
  const global = Object.keys(GLOBAL_OPTIONS);
  const commands: Completable[] = [
    ...SERVER_COMMANDS,
    ...clientCommands.map((c) => ({ name: c.name, subcommands: c.subcommands, options: [...Object.keys(c.options), ...global] })),
  ];
  if (shell === 'bash') return `# cachectl completion for bash: source <(cachectl completion bash), or save it in\n# ~/.local/share/bash-completion/completions/cachectl\n${bashFunction(commands)}\ncomplete -o default -F _cachectl cachectl\n`;
  return `#compdef cachectl\n# cachectl completion for zsh: source <(cachectl completion zsh) after compinit, or save it as _cachectl\n# in a directory of $fpath\nautoload -U +X bashcompinit && bashcompinit\n${bashFunction(commands)}\ncomplete -o default -F _cachectl cachectl\n`;
}

const scope: CommandScope = {
  name: 'completion',
  usage: [{ synopsis: 'cachectl completion bash|zsh', help: 'the shell completion script: source <(cachectl completion bash) in ~/.bashrc (zsh: in ~/.zshrc after compinit)' }],
};

export function completionCommand(clientCommands: () => readonly ClientCommand[]): ClientCommand {
  return {
    ...scope,
    subcommands: SHELLS,
    options: {},
    run: guarded(async (args) => {
      const shell = args.find((a) => !a.startsWith('-'));
      if (args.length !== 1 || !SHELLS.includes(shell as (typeof SHELLS)[number])) return usageOnly(scope, args, 'give the shell: bash or zsh');
      print(completionScript(shell as (typeof SHELLS)[number], clientCommands()));
      return 0;
    }),
  };
}
