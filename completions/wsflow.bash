# bash completion for wsflow                                   -*- shell-script -*-
_wsflow() {
  local cur prev words cword
  _init_completion || return
  local commands="execute watch serve"
  local conn="--url --dialect --connect-timeout --ping-interval --pong-timeout --idle-timeout --retries
    --retry-initial --retry-max-delay --retry-jitter --queue-size -q --quiet -v --verbose"
  local out="--type --exclude-type --raw --follow --strict --connection-events --summary --auto-approve"
  local cmd="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in execute | watch | serve) cmd=${words[i]}; break ;; esac
  done
  case $prev in
    --dialect) COMPREPLY=($(compgen -W "native" -- "$cur")); return ;;
    --retry-jitter) COMPREPLY=($(compgen -W "full none" -- "$cur")); return ;;
    --summary | --port-file) _filedir; return ;;
    --data-dir | --scenario-dir) _filedir -d; return ;;
    --url | --type | --exclude-type | --model | --config | --run-id | --connect-timeout | --ping-interval | \
      --pong-timeout | --idle-timeout | --retries | --retry-initial | --retry-max-delay | --queue-size | \
      --since-seq | --tail | --host | --port | --drop-every | --stall-after | --garbage-every | --close-code)
      return ;;
  esac
  case $cmd in
    "") COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur")) ;;
    execute) COMPREPLY=($(compgen -W "--model --config --run-id $out $conn --help" -- "$cur")) ;;
    watch) COMPREPLY=($(compgen -W "--since-seq --tail --no-history $out $conn --help" -- "$cur")) ;;
    serve) COMPREPLY=($(compgen -W "--host --port --port-file --data-dir --scenario-dir --drop-every --stall-after
      --garbage-every --close-code -v --verbose -q --quiet --help" -- "$cur")) ;;
  esac
} && complete -F _wsflow wsflow
