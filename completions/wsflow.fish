# fish completion for wsflow
set -l cmds execute watch serve
complete -c wsflow -f
complete -c wsflow -n "not __fish_seen_subcommand_from $cmds" -a execute -d 'start a run and print its events'
complete -c wsflow -n "not __fish_seen_subcommand_from $cmds" -a watch -d "print a run's events until it ends"
complete -c wsflow -n "not __fish_seen_subcommand_from $cmds" -a serve -d 'run the reference backend'
complete -c wsflow -n "not __fish_seen_subcommand_from $cmds" -l version -d 'print the version'

# execute
complete -c wsflow -n "__fish_seen_subcommand_from execute" -l model -r -d 'model to use'
complete -c wsflow -n "__fish_seen_subcommand_from execute" -l config -r -d 'run configuration JSON'
complete -c wsflow -n "__fish_seen_subcommand_from execute" -l run-id -r -d 'choose the run id'
# watch
complete -c wsflow -n "__fish_seen_subcommand_from watch" -l since-seq -r -d 'print only events after this seq'
complete -c wsflow -n "__fish_seen_subcommand_from watch" -l tail -r -d 'start with the last N events'
complete -c wsflow -n "__fish_seen_subcommand_from watch" -l no-history -d 'print only events from now on'
# output and connection (execute, watch)
set -l stream "__fish_seen_subcommand_from execute watch"
complete -c wsflow -n $stream -l type -r -d 'print only these event types'
complete -c wsflow -n $stream -l exclude-type -r -d 'do not print these event types'
complete -c wsflow -n $stream -l raw -d 'print every received frame unchanged'
complete -c wsflow -n $stream -l follow -d 'keep going after the terminal event'
complete -c wsflow -n $stream -l strict -d 'a frame that is not JSON ends with exit 4'
complete -c wsflow -n $stream -l connection-events -d 'print connection events'
complete -c wsflow -n $stream -l summary -r -F -d 'write a JSON summary to this file'
complete -c wsflow -n $stream -l auto-approve -d 'answer approvals with their approve-like option'
complete -c wsflow -n $stream -l url -r -d 'backend URL'
complete -c wsflow -n $stream -l dialect -x -a 'native' -d 'backend protocol'
complete -c wsflow -n $stream -l connect-timeout -r -d 'bound on each attempt'
complete -c wsflow -n $stream -l ping-interval -r -d 'ping the peer this often'
complete -c wsflow -n $stream -l pong-timeout -r -d 'peer is dead without a pong within this'
complete -c wsflow -n $stream -l idle-timeout -r -d 'reconnect after this long without data'
complete -c wsflow -n $stream -l retries -r -d 'reconnect attempts before giving up'
complete -c wsflow -n $stream -l retry-initial -r -d 'first reconnect delay ceiling'
complete -c wsflow -n $stream -l retry-max-delay -r -d 'cap of the reconnect delay'
complete -c wsflow -n $stream -l retry-jitter -x -a 'full none' -d 'random delay or the ceiling'
complete -c wsflow -n $stream -l queue-size -r -d 'requests kept while disconnected'
complete -c wsflow -n $stream -s q -l quiet -d 'no status lines on stderr'
complete -c wsflow -n $stream -s v -l verbose -d 'more detail on stderr'
# serve
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l host -r -d 'address to listen on'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l port -r -d 'port to listen on'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l port-file -r -F -d 'write the port to this file'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l data-dir -r -a '(__fish_complete_directories)' -d 'keep runs here'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l scenario-dir -r -a '(__fish_complete_directories)' -d 'scenario files'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l drop-every -r -d 'drop TCP after every N events'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l stall-after -r -d 'stop after N events'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l garbage-every -r -d 'invalid frame after every N events'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -l close-code -r -d 'close with this code'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -s v -l verbose -d 'log faults'
complete -c wsflow -n "__fish_seen_subcommand_from serve" -s q -l quiet -d 'log only errors'
