# bash completion for hfgit (installed as share/bash-completion/completions/hfgit by `make install`).
# Completes the commands, each command's options (read from `hfgit CMD --help`), the values of --repo-type,
# and files elsewhere.

# The options and commands come from hfgit's own --help texts, so the completion never lags behind them.
_hfgit_options() {
    command "${_hfgit_bin:-hfgit}" "$1" --help 2>/dev/null |
        grep -oE '^ +(-[A-Za-z], )?--?[A-Za-z][A-Za-z-]*(, --?[A-Za-z][A-Za-z-]*)?( / -[A-Za-z], --[a-z]+)?' |
        grep -oE -- '--?[A-Za-z][A-Za-z-]*' | sort -u | tr '\n' ' '
}

_hfgit_commands() {
    command "${_hfgit_bin:-hfgit}" --help 2>/dev/null | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }' |
        tr '\n' ' '
}

_hfgit() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands
    _hfgit_bin=${COMP_WORDS[0]}
    command -v "$_hfgit_bin" >/dev/null 2>&1 || _hfgit_bin=hfgit
    commands="$(_hfgit_commands) help"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
        -q | --quiet | -v | --verbose) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        if [[ "$cur" == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--quiet --verbose --help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        return 0
    fi
    case "$prev" in
    --repo-type)
        mapfile -t COMPREPLY < <(compgen -W "model dataset space" -- "$cur")
        return 0 ;;
    -C)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0 ;;
    --token | --revision | --commit-message | -m | --message | --every | --num-workers | --parallel | --max-rate | \
        --remote | --branch)
        return 0 ;;
    esac
    if [ "$cmd" = help ]; then
        mapfile -t COMPREPLY < <(compgen -W "config $commands" -- "$cur")
    elif [[ "$cur" == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_hfgit_options "$cmd") --help" -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    return 0
}

_hfgit_hub() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    case "$prev" in
    --root | --hooks-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
    --token-file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "--root --listen --token-file --token --user --multipart-threshold
        --chunk-size --hooks-dir --bandwidth-cap --fail-part --fail-complete --drop-part --url-lifetime
        --upload-max-age --help --version" -- "$cur")
}

complete -F _hfgit hfgit
complete -F _hfgit_hub hfgit-hub
