"""What agents announces to the rooms above it, which it must not import.

Sent after commit only, and received only to enqueue work (never to write in the sender's
transaction): a notification across a layer boundary, not a business cascade.
"""

from django.dispatch import Signal

# A seat went online and may take waiting work. Arguments: user_id.
seat_came_online = Signal()
