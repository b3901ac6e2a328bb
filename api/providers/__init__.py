"""Push provider clients (Expo, Web Push): a leaf package configured only by constructor args."""
