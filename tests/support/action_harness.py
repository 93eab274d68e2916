"""An action of the collection built as Ansible's task executor builds it, without a play: a task with its
action and arguments, a loader and a templar over the host's variables. The collection's actions run on the
controller: the connection is Ansible's local one, never opened."""

from __future__ import annotations

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.connection.local import Connection
from ansible.template import Templar


def build(action_class, action: str, args: dict, variables: dict | None = None, check_mode: bool = False):
    task = Task()
    task.action = action
    task.args = args
    task.check_mode = check_mode
    loader = DataLoader()
    play_context = PlayContext()
    connection = Connection(play_context, None)
    templar = Templar(loader=loader, variables=variables or {})
    return action_class(task, connection, play_context, loader, templar, None)
