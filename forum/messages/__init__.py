"""Private conversations (messagerie): members write to each other, in groups, safely."""
