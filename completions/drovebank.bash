# bash completion for drovebank(1) and recover(8)            -*- shell-script -*-
#
# Completes commands, options, and account ids read from the data directory's account
# tree (DATA/accounts/AA/BB/CC/DD.csv is account AABBCCDD). DATA is the -d/--data-dir
# given on the line, else $DROVEBANK_DATA, else ./data. Installed to
# share/bash-completion/completions/ (also as "recover", a copy of this file). The zsh
# (_drovebank) and fish (drovebank.fish) completions beside it offer the same words;
# tests/completions_test.cc checks all three against --help.

_drovebank_data_dir() {
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
            -d | --data-dir)
                printf '%s\n' "${COMP_WORDS[i + 1]/#\~/$HOME}"
                return
                ;;
            --data-dir=*)
                printf '%s\n' "${COMP_WORDS[i]#--data-dir=}"
                return
                ;;
        esac
    done
    printf '%s\n' "${DROVEBANK_DATA:-data}"
}

# Account ids starting with $1, at most 500 so a huge store never stalls the shell.
_drovebank_account_ids() {
    local dir
    dir="$(_drovebank_data_dir)/accounts"
    [[ -d $dir && $1 =~ ^[0-9]*$ ]] || return
    find "$dir" -mindepth 4 -maxdepth 4 -name '[0-9][0-9].csv' -printf '%P\n' 2>/dev/null |
        sed -n 's#^\([0-9][0-9]\)/\([0-9][0-9]\)/\([0-9][0-9]\)/\([0-9][0-9]\)\.csv$#\1\2\3\4#p' |
        sed 's/^0*//' | grep -E "^${1}[0-9]*$" | sort -n | head -n 500
}

_drovebank() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n = || return
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD - 1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="open show deposit withdraw transfer close rename list search history txn
        balance bal statement export reverse import-legacy batch import-csv shell help version
        init"
    local globals="-d --data-dir --json -O --output --lock-timeout --read-only --bail
        --group-size -h --help -V --version"

    case "$prev" in
        -d | --data-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        -O | --output)
            COMPREPLY=($(compgen -W "text csv tsv json" -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W "hledger ledger beancount csv" -- "$cur"))
            return
            ;;
        -o | --output-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --lock-timeout | --page | --page-size | --group-size | --txn | --account | --since | \
            --until | --at | --month | --memo)
            return
            ;;
    esac

    # The command is the first word that is not a global option or its value.
    local i cmd="" cmd_at=0
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            -d | --data-dir | --lock-timeout | -O | --output) ((i++)) ;;
            -*) ;;
            *)
                cmd="${words[i]}"
                cmd_at=$i
                break
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    # Which positional argument of the command is being typed (1-based).
    local n=0
    for ((i = cmd_at + 1; i < cword; i++)); do
        case "${words[i]}" in
            --txn | --page | --page-size | --group-size | --account | -O | --output | --since | \
                --until | --at | --month | --format | -o | --output-file | --memo) ((i++)) ;;
            -*) ;;
            *) ((n++)) ;;
        esac
    done
    ((n++))

    local opts="--help"
    case "$cmd" in
        deposit | withdraw | transfer) opts+=" --txn --memo" ;;
        open | close | rename) opts+=" --txn" ;;
        reverse) opts+=" --memo" ;;
        list | search) opts+=" --page --page-size --all -O" ;;
        history) opts+=" --page --page-size --all -O --since --until" ;;
        balance | bal) opts+=" --all --at -O" ;;
        statement) opts+=" --month -O" ;;
        export) opts+=" --format --since --until -o" ;;
        import-legacy) opts+=" --group-size" ;;
        batch) opts+=" --account --parallel --group-size --no-auto-keys --again" ;;
        import-csv) opts+=" --group-size --no-auto-keys --again" ;;
        version) opts+=" --verbose" ;;
        shell) opts+=" --bail --group-size" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    case "$cmd" in
        show | deposit | withdraw | close | rename | history | statement)
            ((n == 1)) && COMPREPLY=($(_drovebank_account_ids "$cur"))
            ;;
        transfer)
            ((n <= 2)) && COMPREPLY=($(_drovebank_account_ids "$cur"))
            ;;
        import-legacy | init)
            ((n == 1)) && COMPREPLY=($(compgen -d -- "$cur"))
            ;;
        help)
            ((n == 1)) && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
            ;;
        batch | import-csv)
            ((n == 1)) && COMPREPLY=($(compgen -f -- "$cur"))
            ;;
    esac
}

_drovebank_recover() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
    case "$prev" in
        -d | --data-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --lock-timeout | --expect-head) return ;;
    esac
    COMPREPLY=($(compgen -W "-d --data-dir --check --full --accept-loss --json --expect-head --lock-timeout
        -h --help -V --version" -- "$cur"))
}

complete -F _drovebank drovebank
complete -F _drovebank_recover recover
