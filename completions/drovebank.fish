# fish completion for drovebank(1) and recover(8): commands, options, and account ids read
# from the data directory's account tree (DATA/accounts/AA/BB/CC/DD.csv is account
# AABBCCDD). DATA is the -d/--data-dir given on the line, else $DROVEBANK_DATA, else
# ./data. Installed to share/fish/vendor_completions.d/ as drovebank.fish and recover.fish
# (the same file); the same words as drovebank.bash.

function __drovebank_data_dir
    set -l words (commandline -opc)
    set -l data data
    set -q DROVEBANK_DATA; and set data $DROVEBANK_DATA
    for i in (seq (count $words))
        switch $words[$i]
            case -d --data-dir
                set -l next (math $i + 1)
                test $next -le (count $words); and set data $words[$next]
            case '--data-dir=*'
                set data (string replace -- --data-dir= '' $words[$i])
        end
    end
    echo $data
end

# Account ids, at most 500 so a huge store never stalls the shell.
function __drovebank_account_ids
    find (__drovebank_data_dir)/accounts -mindepth 4 -maxdepth 4 -name '[0-9][0-9].csv' \
        -printf '%P\n' 2>/dev/null | string replace -a / '' | string replace -r '\.csv$' '' |
        string replace -r '^0*' '' | sort -n | head -n 500
end

set -l commands open show deposit withdraw transfer close rename list search history txn \
    balance bal statement export reverse import-legacy batch import-csv shell help version init
set -l with_id show deposit withdraw close rename history statement transfer

complete -c drovebank -f
# Global options.
complete -c drovebank -s d -l data-dir -r -a '(__fish_complete_directories)' -d 'Data directory'
complete -c drovebank -l json -d 'Print one JSON value'
complete -c drovebank -s O -l output -x -a 'text csv tsv json' -d 'Output format'
complete -c drovebank -l lock-timeout -x -d 'Seconds to wait for a locked account'
complete -c drovebank -l read-only -d 'Open the store only to read'
complete -c drovebank -l bail -d 'Shell script: stop at the first failing line'
complete -c drovebank -l group-size -x -d 'Shell script: most waiting lines committed together'
complete -c drovebank -s h -l help -d 'Print help'
complete -c drovebank -s V -l version -d 'Print the version'

# Commands.
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a open -d 'Open an account'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a show -d 'Show one account'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a deposit -d 'Deposit AMOUNT into account ID'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a withdraw -d 'Withdraw AMOUNT from account ID'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a transfer -d 'Move AMOUNT from FROM to TO'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a close -d 'Close an account (balance 0.00)'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a rename -d 'New first and last names'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a list -d 'List accounts by id'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a search -d 'Find accounts by name'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a history -d 'An account\'s changes'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a txn -d 'One committed transaction'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a 'balance bal' -d 'Balances and the total'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a statement -d 'One account\'s month'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a export -d 'The journal for hledger, ledger, beancount, CSV'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a reverse -d 'Undo a committed transaction'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a import-legacy -d 'Import an original drovebank directory'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a batch -d 'Run many events from FILE'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a import-csv -d 'Run the operations of a CSV file'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a shell -d 'The interactive shell'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a help -d 'Help of the program or of COMMAND'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a version -d 'Print the version'
complete -c drovebank -n "not __fish_seen_subcommand_from $commands" -a init -d 'Create an empty store'

# Arguments and options of each command.
complete -c drovebank -n "__fish_seen_subcommand_from $with_id" -a '(__drovebank_account_ids)' -d 'Account id'
complete -c drovebank -n "__fish_seen_subcommand_from open close rename deposit withdraw transfer" -l txn -x -d 'Idempotency key'
complete -c drovebank -n "__fish_seen_subcommand_from deposit withdraw transfer reverse" -l memo -x -d 'A note kept with the change'
complete -c drovebank -n "__fish_seen_subcommand_from list search history" -l page -x -d 'Page number'
complete -c drovebank -n "__fish_seen_subcommand_from list search history" -l page-size -x -d 'Rows a page'
complete -c drovebank -n "__fish_seen_subcommand_from list search history balance bal" -l all -d 'Everything, no paging'
complete -c drovebank -n "__fish_seen_subcommand_from history export" -l since -x -d 'From this day (YYYY-MM-DD)'
complete -c drovebank -n "__fish_seen_subcommand_from history export" -l until -x -d 'Up to this day (YYYY-MM-DD)'
complete -c drovebank -n "__fish_seen_subcommand_from balance bal" -l at -x -d 'As of the end of a day'
complete -c drovebank -n "__fish_seen_subcommand_from statement" -l month -x -d 'YYYY-MM'
complete -c drovebank -n "__fish_seen_subcommand_from export" -l format -x -a 'hledger ledger beancount csv' -d 'Export format'
complete -c drovebank -n "__fish_seen_subcommand_from export" -s o -l output-file -r -F -d 'Write to FILE'
complete -c drovebank -n "__fish_seen_subcommand_from import-legacy init" -a '(__fish_complete_directories)'
complete -c drovebank -n "__fish_seen_subcommand_from import-legacy batch import-csv" -l group-size -x -d 'Events per group commit'
complete -c drovebank -n "__fish_seen_subcommand_from batch import-csv" -F
complete -c drovebank -n "__fish_seen_subcommand_from batch import-csv" -l no-auto-keys -d 'No automatic keys'
complete -c drovebank -n "__fish_seen_subcommand_from batch import-csv" -l again -d 'Apply an input run to its end once more'
complete -c drovebank -n "__fish_seen_subcommand_from batch" -l account -x -a '(__drovebank_account_ids)' -d 'The account customers act on'
complete -c drovebank -n "__fish_seen_subcommand_from batch" -l parallel -d 'Each customer its own process'
complete -c drovebank -n "__fish_seen_subcommand_from version" -l verbose -d 'Also the data directory\'s file system'
complete -c drovebank -n "__fish_seen_subcommand_from help" -a "$commands"

# recover(8).
complete -c recover -f
complete -c recover -s d -l data-dir -r -a '(__fish_complete_directories)' -d 'Data directory'
complete -c recover -l check -d 'Change nothing; exit 0 when consistent'
complete -c recover -l full -d 'Also verify every account file'
complete -c recover -l json -d 'Print the report as one JSON value'
complete -c recover -l accept-loss -d 'Cut a journal that lost records back to its last good one, rebuild from it'
complete -c recover -l expect-head -x -d 'Fail unless the chain passes through TXN:HASH'
complete -c recover -l lock-timeout -x -d 'Seconds to wait for a live lock'
complete -c recover -s h -l help -d 'Print help'
complete -c recover -s V -l version -d 'Print the version'
