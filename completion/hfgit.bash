# bash completion for hfgit (installed as share/bash-completion/completions/hfgit by `make install`).
# Completes the commands, each command's options, the values of --repo-type, and files elsewhere.

_hfgit_options() {
    case "$1" in
    clone) echo "--repo-type --revision --skip-lfs" ;;
    pull) echo "--rebase -C" ;;
    add) echo "--no-auto-track -C" ;;
    commit) echo "-m --message -a --all -C" ;;
    push) echo "--remote --branch --no-multipart --max-rate -C" ;;
    track) echo "--filename -C" ;;
    status | untrack | install-hooks) echo "-C" ;;
    lfs-enable-largefiles) echo "--parallel" ;;
    upload) echo "--repo-type --revision --commit-message --include --exclude --delete --private --every --max-rate" ;;
    upload-large-folder) echo "--repo-type --revision --include --exclude --num-workers --no-report --private" ;;
    login) echo "--token" ;;
    esac
}

_hfgit() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="clone pull add commit push status track untrack upload upload-large-folder install-hooks
        lfs-enable-largefiles login whoami logout help"
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
        mapfile -t COMPREPLY < <(compgen -W "$(_hfgit_options "$cmd") --help -q --quiet -v --verbose" -- "$cur")
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
