"""What happens after the conversation: payments arrive, promises are kept or broken, plans live on."""
